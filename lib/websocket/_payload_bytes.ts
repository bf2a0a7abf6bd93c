/**
 * Payload helpers for {@linkcode WebSocketDecoder}: unmasking text into a shared scratch
 * buffer, turning short ASCII into a string, and joining a message's fragments.
 *
 * @module
 */

import { maskPayload } from "./websocket_frame.ts";

// Masked text is unmasked into this buffer and decoded from there, so text needs no buffer of
// its own. Sharing one buffer between all decoders is safe because decode() never awaits.
const SCRATCH = new Uint8Array(64 * 1024);

/** The most text bytes {@linkcode unmaskedText} returns in one call. */
export const SCRATCH_SIZE = SCRATCH.length;

/**
 * Returns `length` text bytes of `chunk` from `start`, unmasked: a view of the chunk itself
 * when `mask` is undefined, or a copy in the shared scratch buffer, valid until the next call
 * (`offset` is their position in the payload, for the key).
 */
export function unmaskedText(
  chunk: Uint8Array,
  start: number,
  length: number,
  mask: Uint8Array | undefined,
  offset: number,
): Uint8Array {
  if (!mask) return chunk.subarray(start, start + length);
  const bytes = SCRATCH.subarray(0, length);
  if (length <= 256) {
    // Short text (the common case): one loop, no view of the chunk to create.
    for (let i = 0; i < length; i++) bytes[i] = chunk[start + i]! ^ mask[(offset + i) & 3]!;
  } else {
    bytes.set(chunk.subarray(start, start + length));
    maskPayload(bytes, mask, offset);
  }
  return bytes;
}

// Short ASCII text, the usual chat or ping-pong message, is turned into a string in JavaScript:
// the TextDecoder call costs more than the loop for a few dozen bytes (decoding 64-byte text
// frames about 1.6x as fast in scripts/bench/websocket_codec_bench.ts). ASCII is valid UTF-8.
const SHORT_ASCII_LIMIT = 128;

/** The string for `bytes` if they are short ASCII, else `undefined` (decode them as UTF-8). */
export function shortAsciiText(bytes: Uint8Array): string | undefined {
  if (bytes.length > SHORT_ASCII_LIMIT) return undefined;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return undefined;
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** Joins fragments into one buffer, returning the only fragment as it is. */
export function concatFragments(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  // Fragments were unmasked into their own buffers; joining them is the second and last copy.
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
