import assert from "node:assert/strict";
import { FrameTooLargeError } from "../../lib/framing/frame_errors.ts";
import { encodeLine, LineDecoder, LineDecoderStream } from "../../lib/framing/line_decoder.ts";
import { cut, random } from "../helpers/chunking.ts";

const encoder = new TextEncoder();

/** Feeds `chunks` through a decoder and returns the lines, after end(). */
function decodeAll(chunks: Uint8Array[], maxLineLength?: number): string[] {
  const decoder = new LineDecoder({ maxLineLength });
  const lines: string[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let line; (line = decoder.next()) !== null;) lines.push(line);
  }
  decoder.end();
  for (let line; (line = decoder.next()) !== null;) lines.push(line);
  return lines;
}

Deno.test("LineDecoder handles a table of chunkings", () => {
  const table: [string, string[], string[]][] = [
    // [comment, chunks, expected lines]
    ["one line in one chunk", ["hello\n"], ["hello"]],
    ["two lines in one chunk", ["a\nb\n"], ["a", "b"]],
    ["CRLF terminators", ["a\r\nb\r\n"], ["a", "b"]],
    ["CRLF split between \\r and \\n", ["a\r", "\nb\n"], ["a", "b"]],
    ["line split in three", ["he", "ll", "o\n"], ["hello"]],
    ["empty lines are kept", ["\n\r\n\n"], ["", "", ""]],
    ["final line without terminator", ["a\nlast"], ["a", "last"]],
    ["final line ending in a lone CR", ["last\r"], ["last"]],
    ["a lone CR inside a line is data", ["a\rb\n"], ["a\rb"]],
    ["empty chunks change nothing", ["", "a", "", "\n", ""], ["a"]],
  ];
  for (const [comment, chunks, expected] of table) {
    assert.deepEqual(decodeAll(chunks.map((c) => encoder.encode(c))), expected, comment);
  }
});

Deno.test("LineDecoder decodes a UTF-8 character split at every byte", () => {
  const text = "héllo €uro 𝄞 done\n";
  const bytes = encoder.encode(text);
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(decodeAll(cut(bytes, [at])), ["héllo €uro 𝄞 done"], `cut at ${at}`);
  }
});

Deno.test("LineDecoder yields the original lines for every single cut, random multi-cuts and 1-byte chunks", () => {
  const rand = random(42);
  const lines = Array.from({ length: 40 }, (_, i) => {
    const length = Math.floor(rand() * 30);
    const alphabet = ["a", "é", "€", "𝄞", " ", "\r"];
    let line = "";
    for (let j = 0; j < length; j++) line += alphabet[Math.floor(rand() * alphabet.length)];
    // A line ending in \r would be read as CRLF; that is the documented rule.
    return line.replace(/\r+$/, "") + (i % 3 === 0 ? "x" : "");
  });
  const bytes = encoder.encode(lines.map((line, i) => line + (i % 2 ? "\r\n" : "\n")).join(""));
  for (let at = 0; at <= bytes.length; at++) {
    assert.deepEqual(decodeAll(cut(bytes, [at])), lines, `single cut at ${at}`);
  }
  for (let round = 0; round < 200; round++) {
    const points = Array.from(
      { length: 1 + Math.floor(rand() * 20) },
      () => Math.floor(rand() * bytes.length),
    );
    assert.deepEqual(decodeAll(cut(bytes, points)), lines, `cuts at ${points}`);
  }
  const singles = Array.from(bytes, (b) => new Uint8Array([b]));
  assert.deepEqual(decodeAll(singles), lines, "1-byte chunks");
});

Deno.test("LineDecoder throws FrameTooLargeError for a long line before buffering past the limit, then recovers", () => {
  const decoder = new LineDecoder({ maxLineLength: 8 });
  decoder.push(encoder.encode("ok\n12345"));
  assert.equal(decoder.next(), "ok");
  assert.equal(decoder.next(), null);
  assert.equal(decoder.bufferedBytes, 5);
  decoder.push(encoder.encode("6789"));
  assert.throws(
    () => decoder.next(),
    (error: unknown) => error instanceof FrameTooLargeError && error.limit === 8,
  );
  assert.equal(decoder.bufferedBytes, 0, "nothing past the limit is kept");
  assert.equal(decoder.skipping, true);
  decoder.push(encoder.encode("more junk"));
  assert.equal(decoder.next(), null);
  decoder.push(encoder.encode(" end\nnext\n"));
  assert.equal(decoder.next(), "next", "the line after the oversized one is intact");
});

Deno.test("LineDecoder accepts a line of exactly the limit, with CRLF split across chunks", () => {
  const decoder = new LineDecoder({ maxLineLength: 4 });
  decoder.push(encoder.encode("abcd\r"));
  assert.equal(decoder.next(), null);
  decoder.push(encoder.encode("\n"));
  assert.equal(decoder.next(), "abcd");
  decoder.push(encoder.encode("abcde\n"));
  assert.throws(() => decoder.next(), FrameTooLargeError);
});

Deno.test("LineDecoder reports an oversized line inside one chunk and keeps the lines around it", () => {
  const decoder = new LineDecoder({ maxLineLength: 3 });
  decoder.push(encoder.encode("a\ntoolong\nb\n"));
  assert.equal(decoder.next(), "a");
  assert.throws(() => decoder.next(), FrameTooLargeError);
  assert.equal(decoder.next(), "b");
  assert.equal(decoder.next(), null);
});

Deno.test("LineDecoder replaces invalid UTF-8 by default and throws with fatal", () => {
  const bad = new Uint8Array([0x61, 0xff, 0x62, 0x0a]);
  assert.deepEqual(decodeAll([bad]), ["a\uFFFDb"]);
  const strict = new LineDecoder({ fatal: true });
  strict.push(bad);
  assert.throws(() => strict.next(), TypeError);
});

Deno.test("LineDecoder cost stays linear with 1-byte chunks of a long line", () => {
  // A quadratic decoder re-copies the buffered tail on every push: for 60,000
  // one-byte pushes that is ~1.8e9 byte copies. Count the bytes copied (every
  // Uint8Array set() and slice()) rather than time the loop, so the outcome
  // does not depend on the machine: a stash that doubles copies under 3n.
  const decoder = new LineDecoder({ maxLineLength: 100_000 });
  const byte = new Uint8Array([0x61]);
  const { set, slice } = Uint8Array.prototype;
  let copied = 0;
  Uint8Array.prototype.set = function (source: ArrayLike<number>, offset?: number) {
    copied += source.length;
    return set.call(this, source, offset);
  };
  Uint8Array.prototype.slice = function (start?: number, end?: number) {
    const part = slice.call(this, start, end);
    copied += part.length;
    return part;
  };
  try {
    for (let i = 0; i < 60_000; i++) {
      decoder.push(byte);
      assert.equal(decoder.next(), null);
    }
    decoder.push(new Uint8Array([0x0a]));
    assert.equal(decoder.next()?.length, 60_000);
  } finally {
    Uint8Array.prototype.set = set;
    Uint8Array.prototype.slice = slice;
  }
  assert.ok(copied > 0, "the counters saw the copies");
  assert.ok(copied < 4 * 60_000, `${copied} bytes copied for a 60,000-byte line`);
});

Deno.test("LineDecoderStream delivers the lines before an oversized one, then errors", async () => {
  const chunks = ["a\nb\n", "x".repeat(20) + "\n"];
  const stream = ReadableStream.from(chunks).pipeThrough(new TextEncoderStream()).pipeThrough(
    new LineDecoderStream({ maxLineLength: 10 }),
  );
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const line of stream) seen.push(line);
  }, FrameTooLargeError);
  assert.deepEqual(seen, ["a", "b"]);
});

Deno.test("encodeLine appends a newline and refuses embedded ones", () => {
  assert.deepEqual(encodeLine("é"), new Uint8Array([0xc3, 0xa9, 0x0a]));
  assert.throws(() => encodeLine("a\nb"), TypeError);
});
