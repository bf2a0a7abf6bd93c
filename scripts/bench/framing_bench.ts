/**
 * Decode throughput of the stream framings, for chunk sizes from 1 byte to
 * 64 KiB. Cost must stay linear: MB/s should not collapse as chunks shrink
 * beyond the fixed per-chunk overhead.
 *
 * Run: `deno bench scripts/bench/framing_bench.ts` (or `deno task bench:framing`).
 */

import { encodeLengthPrefixed, LengthPrefixedDecoder } from "../../lib/framing/length_prefixed.ts";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";

const TOTAL = 1 << 20; // 1 MiB of input per iteration
const CHUNK_SIZES = [1, 16, 256, 4096, 65_536];

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

// Lines of 20 to 200 ASCII bytes.
const lineText =
  Array.from({ length: 20_000 }, (_, i) => "x".repeat(20 + (i * 37) % 180)).join("\n") + "\n";
const lineBytes = new TextEncoder().encode(lineText).subarray(0, TOTAL);

// Frames of 20 to 2,000 bytes.
const frames: Uint8Array[] = [];
for (let size = 0, i = 0; size < TOTAL; i++) {
  const frame = encodeLengthPrefixed(new Uint8Array(20 + (i * 97) % 1980));
  frames.push(frame);
  size += frame.length;
}
const frameBytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
frames.reduce((at, f) => (frameBytes.set(f, at), at + f.length), 0);

for (const size of CHUNK_SIZES) {
  // 1-byte chunks are slow by nature; bench a smaller input to keep runs short.
  const lineChunks = chunked(size === 1 ? lineBytes.subarray(0, TOTAL / 16) : lineBytes, size);
  Deno.bench({
    name: `LineDecoder, ${size}-byte chunks`,
    group: `lines ${size}`,
    n: size === 1 ? 20 : undefined,
    fn() {
      const decoder = new LineDecoder();
      for (const chunk of lineChunks) {
        decoder.push(chunk);
        while (decoder.next() !== null) { /* count nothing: decoding is the work */ }
      }
    },
  });
  const frameChunks = chunked(size === 1 ? frameBytes.subarray(0, TOTAL / 16) : frameBytes, size);
  Deno.bench({
    name: `LengthPrefixedDecoder, ${size}-byte chunks`,
    group: `frames ${size}`,
    n: size === 1 ? 20 : undefined,
    fn() {
      const decoder = new LengthPrefixedDecoder();
      for (const chunk of frameChunks) {
        decoder.push(chunk);
        while (decoder.next() !== null) { /* decoding is the work */ }
      }
    },
  });
}
