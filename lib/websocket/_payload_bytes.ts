/**
 * Payload helpers for {@linkcode WebSocketDecoder}: unmasking text into a shared scratch
 * buffer, turning whole UTF-8 texts into strings, and joining a message's fragments.
 *
 * @module
 */

import { isUtf8 } from "node:buffer";
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

// Longer text is validated first and then decoded without the fatal flag: both steps together
// cost a fraction of one fatal decode (a 4 KiB JSON text: 0.5 us against 1.9 us with `deno bench`;
// 64 KiB of ASCII: 6 us against 27 us), because the runtime validates with SIMD while its fatal
// decoder goes byte by byte. Valid input decodes to the same string either way; `ignoreBOM`
// keeps a leading U+FEFF as the message's first character, as the fatal decoder did.
const LENIENT_UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** The string for `bytes`, a whole UTF-8 text, or `undefined` if they are not valid UTF-8. */
export function wholeUtf8Text(bytes: Uint8Array): string | undefined {
  if (bytes.length <= SHORT_ASCII_LIMIT) {
    let ascii = true;
    for (let i = 0; i < bytes.length && ascii; i++) ascii = bytes[i]! < 0x80;
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  return isUtf8(bytes) ? LENIENT_UTF8.decode(bytes) : undefined;
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
