/**
 * Length-prefixed framing: each message is a 4-byte big-endian length
 * followed by that many bytes of payload.
 *
 * ```text
 * +--------+--------+--------+--------+----------------------+
 * |        length (uint32, big-endian) | payload (length bytes) |
 * +--------+--------+--------+--------+----------------------+
 * ```
 *
 * Unlike newline framing the payload may hold any bytes, and the receiver
 * knows the size before the payload arrives, so it can refuse a frame that is
 * too large from the header alone.
 *
 * @module
 */

import { FrameTooLargeError, IncompleteFrameError } from "./frame_errors.ts";

/** Options for {@linkcode LengthPrefixedDecoder} and {@linkcode LengthPrefixedDecoderStream}. */
export interface LengthPrefixedDecoderOptions {
  /**
   * The largest payload accepted, in bytes. A header announcing more throws
   * {@linkcode FrameTooLargeError} before anything is allocated.
   *
   * @default {16777216}
   */
  maxFrameSize?: number;
}

/** The default {@linkcode LengthPrefixedDecoderOptions.maxFrameSize}: 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/** Size of the length header, in bytes. */
export const LENGTH_PREFIX_SIZE = 4;

/**
 * A push/pull decoder for length-prefixed frames: `push()` the bytes that
 * arrived, then call `next()` until it returns `null`.
 *
 * - Zero-length frames are valid and come out as empty arrays.
 * - The payload buffer is allocated once, when the header is complete and
 *   checked against `maxFrameSize`; later chunks are copied into it, so cost
 *   stays linear however small the chunks are.
 * - Returned payloads are copies the caller may keep.
 * - `end()` throws {@linkcode IncompleteFrameError} if the stream stopped in
 *   the middle of a frame.
 *
 * @example Decode two frames delivered in odd pieces
 * ```ts
 * import { encodeLengthPrefixed, LengthPrefixedDecoder } from "./length_prefixed.ts";
 * import assert from "node:assert/strict";
 *
 * const a = encodeLengthPrefixed(new Uint8Array([1, 2, 3]));
 * const b = encodeLengthPrefixed(new Uint8Array([]));
 * const stream = new Uint8Array([...a, ...b]);
 *
 * const decoder = new LengthPrefixedDecoder();
 * decoder.push(stream.subarray(0, 2)); // half a header
 * assert.equal(decoder.next(), null);
 * decoder.push(stream.subarray(2));
 * assert.equal(decoder.next()?.length, 3);
 * assert.equal(decoder.next()?.length, 0);
 * assert.equal(decoder.next(), null);
 * ```
 */
export class LengthPrefixedDecoder {
  #maxFrameSize: number;
  #chunk: Uint8Array | null = null;
  #offset = 0;
  #header = new Uint8Array(LENGTH_PREFIX_SIZE);
  #headerFilled = 0;
  /** The frame being filled, once its header is known. */
  #payload: Uint8Array | null = null;
  #payloadFilled = 0;
  #failed: FrameTooLargeError | null = null;

  /**
   * Creates a decoder.
   *
   * @param options Limits.
   * @throws {RangeError} If `maxFrameSize` is negative or above 2^32 - 1.
   */
  constructor(options: LengthPrefixedDecoderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > 0xffff_ffff) {
      throw new RangeError(
        `Cannot create LengthPrefixedDecoder: maxFrameSize ${max} is not an integer from 0 to 4294967295`,
      );
    }
    this.#maxFrameSize = max;
  }

  /** Bytes of the unfinished frame received so far (header included). */
  get bufferedBytes(): number {
    return this.#headerFilled + this.#payloadFilled;
  }

  /**
   * Hands the decoder the next chunk of the stream. Call `next()` until it
   * returns `null` before pushing again or reusing `chunk`.
   *
   * @param chunk Bytes that arrived.
   * @throws {TypeError} If the previous chunk was not drained with `next()`.
   */
  push(chunk: Uint8Array): void {
    if (this.#chunk !== null) {
      throw new TypeError(
        "Cannot push to LengthPrefixedDecoder: call next() until it returns null first",
      );
    }
    this.#chunk = chunk;
    this.#offset = 0;
  }

  /**
   * Returns the next complete payload, or `null` when more bytes are needed.
   *
   * @returns A payload the caller owns, or `null`.
   * @throws {FrameTooLargeError} If a header announces more than `maxFrameSize`;
   *   the stream cannot be resynchronised, so every later call throws too.
   */
  next(): Uint8Array | null {
    if (this.#failed !== null) throw this.#failed;
    const chunk = this.#chunk;
    if (chunk === null) return null;

    if (this.#payload === null) {
      // Fast path: a whole frame inside the chunk needs no staging copy.
      if (this.#headerFilled === 0 && chunk.length - this.#offset >= LENGTH_PREFIX_SIZE) {
        const length = readUint32(chunk, this.#offset);
        this.#checkLength(length);
        const start = this.#offset + LENGTH_PREFIX_SIZE;
        if (chunk.length - start >= length) {
          this.#offset = start + length;
          if (this.#offset === chunk.length) this.#chunk = null;
          return chunk.slice(start, start + length);
        }
        this.#offset = start;
        this.#headerFilled = LENGTH_PREFIX_SIZE;
        this.#payload = new Uint8Array(length);
      } else {
        const wanted = LENGTH_PREFIX_SIZE - this.#headerFilled;
        const piece = chunk.subarray(this.#offset, this.#offset + wanted);
        this.#header.set(piece, this.#headerFilled);
        this.#headerFilled += piece.length;
        this.#offset += piece.length;
        if (this.#headerFilled < LENGTH_PREFIX_SIZE) {
          this.#chunk = null;
          return null;
        }
        const length = readUint32(this.#header, 0);
        this.#checkLength(length);
        this.#payload = new Uint8Array(length);
      }
    }

    const payload = this.#payload;
    const piece = chunk.subarray(this.#offset, this.#offset + payload.length - this.#payloadFilled);
    payload.set(piece, this.#payloadFilled);
    this.#payloadFilled += piece.length;
    this.#offset += piece.length;
    if (this.#offset === chunk.length) this.#chunk = null;
    if (this.#payloadFilled < payload.length) return null;

    this.#payload = null;
    this.#payloadFilled = 0;
    this.#headerFilled = 0;
    return payload;
  }

  /**
   * Pushes a chunk and returns every payload it completes.
   *
   * @param chunk Bytes that arrived.
   * @returns The completed payloads, in order.
   * @throws {FrameTooLargeError} If a header announces more than `maxFrameSize`.
   */
  decode(chunk: Uint8Array): Uint8Array[] {
    this.push(chunk);
    const frames: Uint8Array[] = [];
    for (let frame; (frame = this.next()) !== null;) frames.push(frame);
    return frames;
  }

  /**
   * Checks that the stream ended on a frame boundary.
   *
   * @throws {IncompleteFrameError} If a frame was started but not finished.
   */
  end(): void {
    if (this.#headerFilled === 0 && this.#payload === null) return;
    const expected = this.#payload === null ? undefined : LENGTH_PREFIX_SIZE + this.#payload.length;
    throw new IncompleteFrameError("frame", this.bufferedBytes, expected);
  }

  #checkLength(length: number): void {
    if (length > this.#maxFrameSize) {
      this.#failed = new FrameTooLargeError("frame", length, this.#maxFrameSize);
      this.#chunk = null;
      throw this.#failed;
    }
  }
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) +
    bytes[at + 3]!;
}

/**
 * A `TransformStream` from bytes to payloads, built on
 * {@linkcode LengthPrefixedDecoder}. Errors with
 * {@linkcode IncompleteFrameError} if the input ends mid-frame.
 *
 * @example
 * ```ts
 * import { encodeLengthPrefixed, LengthPrefixedDecoderStream } from "./length_prefixed.ts";
 * import assert from "node:assert/strict";
 *
 * const frames = await Array.fromAsync(
 *   ReadableStream.from([encodeLengthPrefixed(new Uint8Array([7]))])
 *     .pipeThrough(new LengthPrefixedDecoderStream()),
 * );
 * assert.equal(frames.length, 1);
 * assert.equal(frames[0]![0], 7);
 * ```
 */
export class LengthPrefixedDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options Limits.
   */
  constructor(options: LengthPrefixedDecoderOptions = {}) {
    const decoder = new LengthPrefixedDecoder(options);
    super({
      transform(chunk, controller) {
        decoder.push(chunk);
        for (let frame; (frame = decoder.next()) !== null;) controller.enqueue(frame);
      },
      flush() {
        decoder.end();
      },
    });
  }
}

/**
 * Encodes a payload as one length-prefixed frame.
 *
 * @param payload The bytes to frame.
 * @returns A new array: 4-byte big-endian length, then the payload.
 * @throws {RangeError} If the payload is 4 GiB or larger.
 *
 * @example
 * ```ts
 * import { encodeLengthPrefixed } from "./length_prefixed.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeLengthPrefixed(new TextEncoder().encode("hi"));
 * assert.deepEqual(frame, new Uint8Array([0, 0, 0, 2, 104, 105]));
 * ```
 */
export function encodeLengthPrefixed(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff_ffff) {
    throw new RangeError(`Cannot encode frame: length ${payload.length} exceeds 4294967295`);
  }
  const frame = new Uint8Array(LENGTH_PREFIX_SIZE + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length);
  frame.set(payload, LENGTH_PREFIX_SIZE);
  return frame;
}
