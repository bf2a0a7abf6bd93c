/**
 * Reading a connection in the pieces a protocol asks for: an exact number of
 * bytes, one length-prefixed frame, or "whatever arrived, up to N bytes",
 * mixed freely on the same stream.
 *
 * @module
 */

import { ChunkReader, type ChunkReaderOptions, type Reader } from "./chunk_reader.ts";
import { FrameTooLargeError, IncompleteFrameError } from "../framing/frame_errors.ts";
import { DEFAULT_MAX_FRAME_SIZE, LENGTH_PREFIX_SIZE } from "../framing/length_prefixed.ts";

/** Options for {@linkcode BufferedReader.readFrame}. */
export interface ReadFrameOptions {
  /**
   * The largest payload accepted, in bytes; a larger length header throws
   * before anything is allocated.
   *
   * @default {16777216}
   */
  maxFrameSize?: number;
}

/**
 * Reads a connection whose protocol mixes framed messages and raw bytes, like
 * a file transfer: a length-prefixed header, then N bytes of file, then a
 * 32-byte checksum.
 *
 * A frame decoder fed from `read()` cannot do that on its own: one `read()`
 * may return the end of the header *and* the first bytes of the file. This
 * reader keeps whatever a read returned beyond what was asked for and hands
 * it out first on the next call, so no byte is lost or read twice.
 *
 * ```ts ignore
 * const header = await conn.read(buffer);  // Bad: may hold half a header, or header + data
 * const header = await reader.readFrame(); // Good: exactly one frame; the rest stays buffered
 * ```
 *
 * @example Read a frame, then raw bytes, then a fixed-size trailer
 * ```ts
 * import { BufferedReader } from "./buffered_reader.ts";
 * import { encodeLengthPrefixed } from "../framing/length_prefixed.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = [
 *   ...encodeLengthPrefixed(new TextEncoder().encode('{"size":3}')),
 *   1, 2, 3, // raw data
 *   9, 9, // trailer
 * ];
 * let served = false;
 * // A fake connection that returns everything in one read.
 * const conn = {
 *   read(p: Uint8Array) {
 *     if (served) return Promise.resolve(null);
 *     served = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const reader = new BufferedReader(conn, { initialSize: 64 });
 * const header = JSON.parse(new TextDecoder().decode((await reader.readFrame())!));
 * const data = await reader.readSome(header.size);
 * assert.deepEqual(data, new Uint8Array([1, 2, 3]));
 * assert.deepEqual(await reader.readExact(2), new Uint8Array([9, 9]));
 * assert.equal(await reader.readSome(10), null);
 * ```
 */
export class BufferedReader {
  #chunks: ChunkReader;
  /** Bytes read from the connection but not yet handed out: a view into the chunk reader's buffer. */
  #pending: Uint8Array = new Uint8Array(0);
  #eof = false;

  /**
   * Creates a reader.
   *
   * @param reader The connection (anything with `read(p)` like `Deno.Conn`).
   * @param options The read buffer's sizes; it grows with the traffic.
   */
  constructor(reader: Reader, options: ChunkReaderOptions = {}) {
    this.#chunks = new ChunkReader(reader, options);
  }

  /**
   * Returns the next bytes of the stream, at most `max` of them.
   *
   * @param max The most bytes wanted (at least 1).
   * @returns A view valid until the next call on this reader (copy it to keep
   *   it), or `null` once the stream has ended.
   * @throws {RangeError} If `max` is not a positive integer.
   */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot read: max ${max} is not a positive integer`);
    }
    if (this.#pending.length === 0) {
      if (this.#eof) return null;
      // The previous view is no longer referenced, so the buffer may be reused.
      const chunk = await this.#chunks.read();
      if (chunk === null) {
        this.#eof = true;
        return null;
      }
      this.#pending = chunk;
    }
    const piece = this.#pending.subarray(0, max);
    this.#pending = this.#pending.subarray(piece.length);
    return piece;
  }

  /**
   * Reads exactly `length` bytes.
   *
   * @param length How many bytes.
   * @returns A new array of `length` bytes, or `null` if the stream ended
   *   before the first of them.
   * @throws {IncompleteFrameError} If the stream ended part way.
   */
  async readExact(length: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const piece = await this.readSome(length - filled);
      if (piece === null) {
        if (filled === 0) return null;
        throw new IncompleteFrameError(`${length}-byte block`, filled, length);
      }
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /**
   * Reads one length-prefixed frame (4-byte big-endian length, then payload).
   *
   * @param options The size limit.
   * @returns The payload, or `null` if the stream ended cleanly before the frame.
   * @throws {FrameTooLargeError} If the length header exceeds `maxFrameSize`.
   * @throws {IncompleteFrameError} If the stream ended inside the frame.
   */
  async readFrame(options: ReadFrameOptions = {}): Promise<Uint8Array | null> {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    const header = await this.readExact(LENGTH_PREFIX_SIZE);
    if (header === null) return null;
    const length = new DataView(header.buffer).getUint32(0);
    if (length > max) throw new FrameTooLargeError("frame", length, max);
    if (length === 0) return new Uint8Array(0);
    const payload = await this.readExact(length);
    if (payload === null) {
      throw new IncompleteFrameError("frame", LENGTH_PREFIX_SIZE, LENGTH_PREFIX_SIZE + length);
    }
    return payload;
  }
}
