import assert from "node:assert/strict";
import { FrameTooLargeError, IncompleteFrameError } from "../../lib/framing/frame_errors.ts";
import {
  encodeLengthPrefixed,
  LengthPrefixedDecoder,
  LengthPrefixedDecoderStream,
} from "../../lib/framing/length_prefixed.ts";
import { cut, random } from "../helpers/chunking.ts";

function decodeAll(chunks: Uint8Array[], maxFrameSize?: number): Uint8Array[] {
  const decoder = new LengthPrefixedDecoder({ maxFrameSize });
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame; (frame = decoder.next()) !== null;) frames.push(frame);
  }
  decoder.end();
  return frames;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

Deno.test("LengthPrefixedDecoder handles a table of chunkings", () => {
  const a = encodeLengthPrefixed(new Uint8Array([1, 2, 3]));
  const empty = encodeLengthPrefixed(new Uint8Array(0));
  const table: [string, Uint8Array[], number[]][] = [
    // [comment, chunks, expected frame lengths]
    ["one frame in one chunk", [a], [3]],
    ["two frames in one chunk", [concat([a, a])], [3, 3]],
    ["header split 1+3", [a.slice(0, 1), a.slice(1)], [3]],
    ["header split 3+1, payload separate", [a.slice(0, 3), a.slice(3, 4), a.slice(4)], [3]],
    ["payload split", [a.slice(0, 5), a.slice(5)], [3]],
    ["empty payload", [empty], [0]],
    ["empty payload between two frames", [concat([a, empty, a])], [3, 0, 3]],
    ["nothing at all", [], []],
  ];
  for (const [comment, chunks, lengths] of table) {
    assert.deepEqual(decodeAll(chunks).map((f) => f.length), lengths, comment);
  }
});

Deno.test("LengthPrefixedDecoder yields the original frames for every single cut, random multi-cuts and 1-byte chunks", () => {
  const rand = random(7);
  const frames = Array.from({ length: 30 }, () => {
    const frame = new Uint8Array(Math.floor(rand() * 300));
    for (let i = 0; i < frame.length; i++) frame[i] = Math.floor(rand() * 256);
    return frame;
  });
  const bytes = concat(frames.map(encodeLengthPrefixed));
  for (let at = 0; at <= bytes.length; at++) {
    assert.deepEqual(decodeAll(cut(bytes, [at])), frames, `single cut at ${at}`);
  }
  for (let round = 0; round < 200; round++) {
    const points = Array.from(
      { length: 1 + Math.floor(rand() * 30) },
      () => Math.floor(rand() * bytes.length),
    );
    assert.deepEqual(decodeAll(cut(bytes, points)), frames, `cuts at ${points}`);
  }
  assert.deepEqual(
    decodeAll(Array.from(bytes, (b) => new Uint8Array([b]))),
    frames,
    "1-byte chunks",
  );
});

Deno.test("LengthPrefixedDecoder rejects an oversized frame from the header alone", () => {
  const decoder = new LengthPrefixedDecoder({ maxFrameSize: 1024 });
  // Only the header of a 4 GiB - 1 frame: a decoder that allocated first would fail here.
  decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  assert.throws(
    () => decoder.next(),
    (error: unknown) =>
      error instanceof FrameTooLargeError && error.size === 0xffffffff && error.limit === 1024,
  );
  assert.throws(() => decoder.next(), FrameTooLargeError, "the stream cannot be resynchronised");
});

Deno.test("LengthPrefixedDecoder accepts a frame of exactly maxFrameSize", () => {
  const frame = new Uint8Array(1024).fill(9);
  assert.deepEqual(decodeAll([encodeLengthPrefixed(frame)], 1024), [frame]);
});

Deno.test("LengthPrefixedDecoder reports a stream that ends mid-frame", () => {
  const bytes = encodeLengthPrefixed(new Uint8Array(10));
  for (const end of [1, 4, 9]) {
    const decoder = new LengthPrefixedDecoder();
    decoder.push(bytes.slice(0, end));
    assert.equal(decoder.next(), null);
    assert.throws(() => decoder.end(), IncompleteFrameError, `ended after ${end} bytes`);
  }
});

Deno.test("LengthPrefixedDecoder returns payloads the caller may keep when the input buffer is reused", () => {
  const decoder = new LengthPrefixedDecoder();
  const buffer = encodeLengthPrefixed(new Uint8Array([1, 2]));
  decoder.push(buffer);
  const frame = decoder.next()!;
  buffer.fill(0);
  assert.deepEqual(frame, new Uint8Array([1, 2]));
});

Deno.test("LengthPrefixedDecoderStream errors when the input ends mid-frame", async () => {
  const partial = encodeLengthPrefixed(new Uint8Array(8)).slice(0, 6);
  const stream = ReadableStream.from([partial]).pipeThrough(new LengthPrefixedDecoderStream());
  await assert.rejects(() => Array.fromAsync(stream), IncompleteFrameError);
});
