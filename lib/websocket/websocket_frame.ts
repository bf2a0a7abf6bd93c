/**
 * WebSocket frame encoding (RFC 6455 §5.2): opcodes, the frame header and payload masking.
 *
 * A frame on the wire:
 *
 * ```text
 *  byte 0: FIN | RSV1 | RSV2 | RSV3 | opcode (4 bits)
 *  byte 1: MASK | payload length (7 bits: 0-125, 126 = 16-bit length follows, 127 = 64-bit)
 *  then:   extended length (0, 2 or 8 bytes, big-endian), masking key (0 or 4 bytes), payload
 * ```
 *
 * Servers send unmasked frames; clients must mask every frame with a fresh random key.
 *
 * @module
 */

/** Frame opcodes defined by RFC 6455 §5.2. Every other value is reserved and must be rejected. */
export const OPCODE = {
  /** A later fragment of a text or binary message. */
  CONTINUATION: 0x0,
  /** A text message (UTF-8), or its first fragment. */
  TEXT: 0x1,
  /** A binary message, or its first fragment. */
  BINARY: 0x2,
  /** Close: an optional 2-byte status code and a UTF-8 reason. */
  CLOSE: 0x8,
  /** Ping: the peer answers with a Pong carrying the same payload. */
  PING: 0x9,
  /** Pong: the answer to a Ping, or an unsolicited heartbeat. */
  PONG: 0xa,
} as const;

/** One of the opcodes in {@linkcode OPCODE}. */
export type Opcode = typeof OPCODE[keyof typeof OPCODE];

/** Largest payload a control frame (Close, Ping, Pong) may carry (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/**
 * Reports whether an opcode is a control opcode (Close, Ping, Pong, or a reserved 0xB-0xF).
 *
 * @param opcode The 4-bit opcode.
 * @returns `true` when the high bit of the opcode is set.
 *
 * @example Usage
 * ```ts
 * import { isControlOpcode, OPCODE } from "./websocket_frame.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isControlOpcode(OPCODE.PING), true);
 * assert.equal(isControlOpcode(OPCODE.TEXT), false);
 * ```
 */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Options for {@linkcode encodeFrame} and {@linkcode encodeFrameHeader}. */
export interface EncodeFrameOptions {
  /**
   * Whether this is the final fragment of its message.
   *
   * @default {true}
   */
  fin?: boolean;
  /**
   * The masking key, or `true` for a fresh random key. Clients must mask; servers must not.
   *
   * @default {undefined} (no mask, as a server sends)
   */
  mask?: Uint8Array | boolean;
  /**
   * The three reserved bits (RSV1-3) as a number 0-7: `4` (RSV1) marks a message compressed
   * with permessage-deflate (see `websocket_deflate.ts`); other values only test that a peer
   * rejects them.
   *
   * @default {0}
   */
  rsv?: number;
}

/**
 * Encodes the header of a frame: first two bytes, extended length and masking key.
 *
 * Use it to write a large payload without copying it into a frame; the payload must then be
 * masked with the same key by the caller ({@linkcode maskPayload}).
 *
 * @param opcode The frame opcode (see {@linkcode OPCODE}).
 * @param length The payload length in bytes.
 * @param mask The 4-byte masking key, or `undefined` for an unmasked frame.
 * @param options `fin` and `rsv` (the `mask` option is ignored here).
 * @returns The encoded header, 2 to 14 bytes.
 * @throws {RangeError} If the opcode is not 0-15, or the length is negative or not a safe integer.
 *
 * @example Usage
 * ```ts
 * import { encodeFrameHeader, OPCODE } from "./websocket_frame.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeFrameHeader(OPCODE.BINARY, 256, undefined), new Uint8Array([0x82, 126, 1, 0]));
 * ```
 */
export function encodeFrameHeader(
  opcode: number,
  length: number,
  mask: Uint8Array | undefined,
  options: Pick<EncodeFrameOptions, "fin" | "rsv"> = {},
): Uint8Array {
  const header = new Uint8Array(headerSize(length, mask));
  writeHeader(header, opcode, length, mask, options.fin ?? true, options.rsv ?? 0);
  return header;
}

function headerSize(length: number, mask: Uint8Array | undefined): number {
  return 2 + (length < 126 ? 0 : length <= 0xffff ? 2 : 8) + (mask ? 4 : 0);
}

/** Checks the arguments and writes the header at the start of `target`. */
function writeHeader(
  target: Uint8Array,
  opcode: number,
  length: number,
  mask: Uint8Array | undefined,
  fin: boolean,
  rsv: number,
): void {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xf) {
    throw new RangeError(`Cannot encode frame: opcode ${opcode} is not 0-15`);
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Cannot encode frame: length ${length} is not a non-negative integer`);
  }
  if (mask !== undefined && mask.length !== 4) {
    throw new RangeError(`Cannot encode frame: masking key has ${mask.length} bytes, not 4`);
  }
  target[0] = (fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | opcode;
  const maskBit = mask ? 0x80 : 0;
  let at = 2;
  if (length < 126) {
    target[1] = maskBit | length;
  } else if (length <= 0xffff) {
    target[1] = maskBit | 126;
    target[2] = length >>> 8;
    target[3] = length & 0xff;
    at = 4;
  } else {
    target[1] = maskBit | 127;
    // A safe integer fits in 53 bits: the high 32-bit word is computed by division.
    const view = new DataView(target.buffer, target.byteOffset, 10);
    view.setUint32(2, Math.floor(length / 2 ** 32));
    view.setUint32(6, length >>> 0);
    at = 10;
  }
  if (mask) target.set(mask, at);
}

// Strings are encoded into this buffer, then copied once into the frame: one allocation per
// frame instead of two. Sharing it is safe because encodeFrame never awaits.
const TEXT_SCRATCH = new Uint8Array(64 * 1024);
const UTF8 = new TextEncoder();

/**
 * Encodes one complete frame: header and (masked, when asked) payload in one buffer.
 *
 * @param opcode The frame opcode (see {@linkcode OPCODE}).
 * @param payload The payload; a string is encoded as UTF-8. It is not modified.
 * @param options `fin`, `mask` and `rsv`.
 * @returns The frame bytes, ready to write.
 * @throws {RangeError} If the opcode is not 0-15 or the masking key is not 4 bytes.
 *
 * @example Usage: the RFC 6455 §5.7 examples
 * ```ts
 * import { encodeFrame, OPCODE } from "./websocket_frame.ts";
 * import assert from "node:assert/strict";
 *
 * // A single-frame unmasked text message, as a server sends it.
 * assert.deepEqual(
 *   encodeFrame(OPCODE.TEXT, "Hello"),
 *   new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
 * );
 * // The same message masked, as a client sends it.
 * assert.deepEqual(
 *   encodeFrame(OPCODE.TEXT, "Hello", { mask: new Uint8Array([0x37, 0xfa, 0x21, 0x3d]) }),
 *   new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
 * );
 * ```
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: EncodeFrameOptions = {},
): Uint8Array {
  const mask = options.mask === true
    ? crypto.getRandomValues(new Uint8Array(4))
    : options.mask || undefined;
  const fin = options.fin ?? true, rsv = options.rsv ?? 0;
  if (typeof payload === "string" && payload.length <= ASCII_FAST_PATH_LIMIT) {
    // Most short messages are ASCII: writing the character codes straight into the frame skips
    // the encoder call and one copy (about 2x faster for 64-byte messages in
    // scripts/bench/websocket_codec_bench.ts). Any other character falls back to the encoder below.
    const size = headerSize(payload.length, mask);
    const frame = new Uint8Array(size + payload.length);
    if (copyAscii(payload, frame, size)) {
      writeHeader(frame, opcode, payload.length, mask, fin, rsv);
      if (mask) maskPayload(frame.subarray(size), mask, 0);
      return frame;
    }
  }
  let bytes: Uint8Array;
  if (typeof payload !== "string") {
    bytes = payload;
  } else if (payload.length * 3 <= TEXT_SCRATCH.length) {
    // At most 3 UTF-8 bytes per UTF-16 code unit, so the whole string fits.
    bytes = TEXT_SCRATCH.subarray(0, UTF8.encodeInto(payload, TEXT_SCRATCH).written);
  } else {
    bytes = UTF8.encode(payload);
  }
  const size = headerSize(bytes.length, mask);
  const frame = new Uint8Array(size + bytes.length);
  writeHeader(frame, opcode, bytes.length, mask, fin, rsv);
  frame.set(bytes, size);
  if (mask) maskPayload(frame.subarray(size), mask, 0);
  return frame;
}

/**
 * An unmasked, final text frame whose bytes are not written yet: its size is known at once and
 * its bytes go straight into a buffer the caller joins many frames in. A server that batches its
 * replies makes one buffer per batch this way instead of one per frame (in the runtime, making
 * a `Uint8Array` costs about a microsecond, more than encoding a short message).
 *
 * @example Two frames in one buffer
 * ```ts
 * import { encodeFrame, OPCODE, TextFrame } from "./websocket_frame.ts";
 * import assert from "node:assert/strict";
 *
 * const frames = [new TextFrame("hi"), new TextFrame("wörld")];
 * const batch = new Uint8Array(frames[0]!.byteLength + frames[1]!.byteLength);
 * frames[1]!.writeTo(batch, frames[0]!.writeTo(batch, 0));
 * assert.deepEqual(batch, new Uint8Array([...encodeFrame(OPCODE.TEXT, "hi"), ...encodeFrame(OPCODE.TEXT, "wörld")]));
 * ```
 */
export class TextFrame {
  /** The message. */
  readonly text: string;
  /** The size of the whole frame in bytes, header included. */
  readonly byteLength: number;
  #payloadSize: number;

  /**
   * Measures the frame for `text` (its UTF-8 is encoded once here to count it, unless it is
   * short ASCII).
   *
   * @param text The message.
   */
  constructor(text: string) {
    this.text = text;
    this.#payloadSize = utf8Length(text);
    this.byteLength = headerSize(this.#payloadSize, undefined) + this.#payloadSize;
  }

  /**
   * Writes the frame into `target` at `at`.
   *
   * @param target The buffer; it must have `byteLength` bytes of room from `at`.
   * @param at Where the frame starts.
   * @returns The position just after the frame.
   */
  writeTo(target: Uint8Array, at: number): number {
    const size = this.#payloadSize, header = this.byteLength - size;
    writeHeader(at === 0 ? target : target.subarray(at), OPCODE.TEXT, size, undefined, true, 0);
    if (size === this.text.length && size <= ASCII_FAST_PATH_LIMIT) {
      copyAscii(this.text, target, at + header);
    } else {
      UTF8.encodeInto(this.text, target.subarray(at + header, at + header + size));
    }
    return at + this.byteLength;
  }
}

/** The UTF-8 size of `text` in bytes, as `TextEncoder` encodes it. */
function utf8Length(text: string): number {
  if (text.length <= ASCII_FAST_PATH_LIMIT) {
    let i = 0;
    while (i < text.length && text.charCodeAt(i) < 0x80) i++;
    if (i === text.length) return i;
  }
  if (text.length * 3 <= TEXT_SCRATCH.length) return UTF8.encodeInto(text, TEXT_SCRATCH).written;
  return UTF8.encode(text).length;
}

/** Strings up to this length try the ASCII path of {@linkcode encodeFrame} first. */
const ASCII_FAST_PATH_LIMIT = 1024;

/** Copies `text` into `target` at `at` if it is all ASCII; returns false at the first non-ASCII. */
function copyAscii(text: string, target: Uint8Array, at: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return false;
    target[at + i] = code;
  }
  return true;
}

/** The byte order of this machine's 32-bit words, for {@linkcode maskPayload}. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XORs bytes with a masking key in place (RFC 6455 §5.3); masking twice restores the input.
 *
 * @param bytes The bytes to mask or unmask, modified in place.
 * @param mask The 4-byte masking key.
 * @param offset How many payload bytes came before `bytes` in the same frame, so that a payload
 * split across chunks is unmasked with the right key byte.
 * @returns Nothing; `bytes` is changed.
 *
 * @example Usage
 * ```ts
 * import { maskPayload } from "./websocket_frame.ts";
 * import assert from "node:assert/strict";
 *
 * const key = new Uint8Array([1, 2, 3, 4]);
 * const data = new Uint8Array([10, 20, 30, 40, 50]);
 * maskPayload(data, key, 0);
 * maskPayload(data, key, 0);
 * assert.deepEqual(data, new Uint8Array([10, 20, 30, 40, 50]));
 * ```
 */
export function maskPayload(bytes: Uint8Array, mask: Uint8Array, offset: number): void {
  const m0 = mask[0]!, m1 = mask[1]!, m2 = mask[2]!, m3 = mask[3]!;
  let i = 0;
  // Align to the key so that the loops below always start at key byte 0.
  for (; i < bytes.length && (offset + i) % 4 !== 0; i++) bytes[i]! ^= mask[(offset + i) % 4]!;
  // Four bytes per step through a Uint32Array where the memory allows one (its byte offset must
  // be a multiple of 4): about 4x faster on a 4 KiB payload than the byte loop below.
  if (bytes.length - i >= 64 && (bytes.byteOffset + i) % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (bytes.length - i) >>> 2);
    const key = LITTLE_ENDIAN
      ? m0 | (m1 << 8) | (m2 << 16) | (m3 << 24)
      : (m0 << 24) | (m1 << 16) | (m2 << 8) | m3;
    for (let w = 0; w < words.length; w++) words[w]! ^= key;
    i += words.length * 4;
  }
  const end = bytes.length - 3;
  for (; i < end; i += 4) {
    bytes[i]! ^= m0;
    bytes[i + 1]! ^= m1;
    bytes[i + 2]! ^= m2;
    bytes[i + 3]! ^= m3;
  }
  for (; i < bytes.length; i++) bytes[i]! ^= mask[(offset + i) % 4]!;
}
