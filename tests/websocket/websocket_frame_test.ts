// TextFrame: the bytes it writes are the bytes encodeFrame makes, at any position in a batch.
import assert from "node:assert/strict";
import { encodeFrame, OPCODE, TextFrame } from "../../lib/websocket/websocket_frame.ts";

const TEXTS = [
  "",
  "hi",
  "x".repeat(125), // the largest 7-bit length
  "x".repeat(126), // the first 16-bit length
  "x".repeat(1024), // the last ASCII fast path
  "x".repeat(1025),
  "é".repeat(63), // 126 bytes from 63 characters
  "κόσμε ✓ 😀",
  "\ud800 lone surrogate", // TextEncoder writes U+FFFD for it, 3 bytes
  "y".repeat(65_535),
  "z".repeat(65_536), // the first 64-bit length
  "ü".repeat(30_000), // past the encoder's scratch buffer
];

Deno.test("TextFrame writes the same bytes as encodeFrame, for every length class", () => {
  for (const text of TEXTS) {
    const expected = encodeFrame(OPCODE.TEXT, text);
    const frame = new TextFrame(text);
    assert.equal(frame.byteLength, expected.length, `size for ${text.slice(0, 20)}`);
    const target = new Uint8Array(frame.byteLength);
    assert.equal(frame.writeTo(target, 0), frame.byteLength);
    assert.deepEqual(target, expected, `bytes for ${text.slice(0, 20)}`);
  }
});

Deno.test("TextFrame writes at an offset and leaves the bytes around it alone", () => {
  const frames = TEXTS.map((text) => new TextFrame(text));
  const total = frames.reduce((sum, frame) => sum + frame.byteLength, 0);
  const batch = new Uint8Array(3 + total + 3).fill(0xee);
  let at = 3;
  for (const frame of frames) at = frame.writeTo(batch, at);
  assert.equal(at, 3 + total);
  const expected = new Uint8Array(batch.length).fill(0xee);
  let offset = 3;
  for (const text of TEXTS) {
    const bytes = encodeFrame(OPCODE.TEXT, text);
    expected.set(bytes, offset);
    offset += bytes.length;
  }
  assert.deepEqual(batch, expected);
});
