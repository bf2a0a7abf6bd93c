/**
 * Newline framing: split a byte stream into lines.
 *
 * Bytes on a TCP stream are not messages. One `read()` can return half a line,
 * three lines, or a line whose last UTF-8 character is cut in two. A line
 * decoder buffers the unfinished tail and hands out whole lines only.
 *
 * ```ts ignore
 * // Bad: assumes one read is one line, and decodes the whole buffer
 * const buf = new Uint8Array(1024);
 * await conn.read(buf);
 * const line = new TextDecoder().decode(buf);
 *
 * // Good: feed whatever arrived to a decoder, take out whole lines
 * const n = await conn.read(buf);
 * if (n === null) return;
 * decoder.push(buf.subarray(0, n));
 * for (let line; (line = decoder.next()) !== null;) handle(line);
 * ```
 *
 * @module
 */

import { FrameTooLargeError } from "./frame_errors.ts";

/** Options for {@linkcode LineDecoder} and {@linkcode LineDecoderStream}. */
export interface LineDecoderOptions {
  /**
   * The longest line accepted, in bytes, not counting the `\n` or `\r\n`.
   * A longer line throws {@linkcode FrameTooLargeError} as soon as the limit
   * is crossed, before more than the limit is buffered.
   *
   * @default {65536}
   */
  maxLineLength?: number;
  /**
   * Throw a `TypeError` on invalid UTF-8 instead of replacing each bad
   * sequence with U+FFFD.
   *
   * @default {false}
   */
  fatal?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);
/** A pending buffer larger than this is released once its line is done. */
const KEEP_PENDING_BYTES = 4096;

/** The default {@linkcode LineDecoderOptions.maxLineLength}: 64 KiB. */
export const DEFAULT_MAX_LINE_LENGTH = 65_536;

/**
 * A push/pull line decoder: `push()` the bytes that arrived, then call
 * `next()` until it returns `null` (it needs more bytes).
 *
 * - Lines end with `\n` or `\r\n`; the terminator is not part of the line.
 *   A `\r\n` split across two chunks is handled.
 * - Lines are decoded as UTF-8 once complete, so a character split across
 *   chunks is decoded correctly. Invalid UTF-8 becomes U+FFFD (or throws a
 *   `TypeError` with `fatal: true`).
 * - A line longer than `maxLineLength` throws {@linkcode FrameTooLargeError}
 *   from `next()`; the rest of that line is then skipped, and the lines after
 *   it are decoded as usual, so a caller can answer with an error and carry on.
 * - After `end()`, a final line without a terminator is returned by `next()`
 *   like any other (a trailing `\r` is dropped).
 * - Cost is linear in the input: the unfinished tail is copied once, however
 *   small the chunks. `push()` does not copy; the caller must drain `next()`
 *   before reusing the pushed buffer.
 *
 * @example Split chunks into lines
 * ```ts
 * import { LineDecoder } from "./line_decoder.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new LineDecoder();
 * const bytes = new TextEncoder().encode("hello\r\nwor");
 * decoder.push(bytes);
 * assert.equal(decoder.next(), "hello");
 * assert.equal(decoder.next(), null); // "wor" is buffered
 * decoder.push(new TextEncoder().encode("ld\n"));
 * assert.equal(decoder.next(), "world");
 * ```
 */
export class LineDecoder {
  #maxLineLength: number;
  #textDecoder: TextDecoder;
  /** The chunk being consumed (not copied) and how far we are in it. */
  #chunk: Uint8Array | null = null;
  #offset = 0;
  /**
   * The unfinished line, copied out of the caller's chunks into a buffer that
   * doubles as needed (amortised linear cost, however small the chunks).
   */
  #pending: Uint8Array = EMPTY;
  #partsLength = 0;
  #skipping = false;
  #ended = false;

  /**
   * Creates a decoder.
   *
   * @param options Limits and UTF-8 handling.
   * @throws {RangeError} If `maxLineLength` is not a positive integer.
   */
  constructor(options: LineDecoderOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create LineDecoder: maxLineLength ${max} is not a positive integer`,
      );
    }
    this.#maxLineLength = max;
    this.#textDecoder = new TextDecoder("utf-8", { fatal: options.fatal ?? false });
  }

  /** Bytes buffered for an unfinished line. */
  get bufferedBytes(): number {
    return this.#partsLength;
  }

  /** True while the decoder drops the rest of a line that was too long. */
  get skipping(): boolean {
    return this.#skipping;
  }

  /**
   * Hands the decoder the next chunk of the stream. Call `next()` until it
   * returns `null` before pushing again or reusing `chunk`.
   *
   * @param chunk Bytes that arrived; not copied until needed.
   * @throws {TypeError} If called after `end()`.
   */
  push(chunk: Uint8Array): void {
    if (this.#ended) throw new TypeError("Cannot push to LineDecoder: end() was called");
    // A chunk not yet drained keeps its unread tail; a forgotten next() loop
    // must not lose data, so fold that tail into the buffered parts first.
    if (this.#chunk !== null) this.#stash(this.#chunk.subarray(this.#offset));
    this.#chunk = chunk;
    this.#offset = 0;
  }

  /** Marks the end of the stream: the next `next()` returns a final unterminated line. */
  end(): void {
    if (this.#chunk !== null) this.#stash(this.#chunk.subarray(this.#offset));
    this.#chunk = null;
    this.#ended = true;
  }

  /**
   * Returns the next complete line, or `null` when more bytes are needed (or,
   * after `end()`, when everything was returned).
   *
   * @returns The line without its terminator, or `null`.
   * @throws {FrameTooLargeError} If a line is longer than `maxLineLength`.
   * @throws {TypeError} If the line is invalid UTF-8 and `fatal` is set.
   */
  next(): string | null {
    const chunk = this.#chunk;
    if (chunk === null) return this.#ended ? this.#takeFinalLine() : null;

    if (this.#skipping) {
      const newline = chunk.indexOf(LF, this.#offset);
      if (newline < 0) {
        this.#chunk = null;
        return null;
      }
      this.#skipping = false;
      this.#offset = newline + 1;
    }

    const start = this.#offset;
    const newline = chunk.indexOf(LF, start);
    if (newline < 0) {
      this.#stash(chunk.subarray(start));
      this.#chunk = null;
      return null;
    }
    this.#offset = newline + 1;
    if (this.#offset === chunk.length) this.#chunk = null;

    let end = newline;
    let length = this.#partsLength + (newline - start);
    let line: Uint8Array;
    if (this.#partsLength === 0) {
      if (end > start && chunk[end - 1] === CR) {
        end--;
        length--;
      }
      line = chunk.subarray(start, end);
    } else {
      line = this.#joinParts(chunk.subarray(start, newline));
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, --length);
    }
    if (length > this.#maxLineLength) {
      throw new FrameTooLargeError("line", length, this.#maxLineLength);
    }
    return this.#textDecoder.decode(line);
  }

  /**
   * Pushes a chunk and returns every line it completes.
   *
   * A convenience for callers that stop at the first error: lines before an
   * oversized line in the same chunk are lost with the exception, so servers
   * that answer errors and carry on should use `push()`/`next()` instead.
   *
   * @param chunk Bytes that arrived.
   * @returns The completed lines, in order.
   * @throws {FrameTooLargeError} If a line is longer than `maxLineLength`.
   */
  decode(chunk: Uint8Array): string[] {
    this.push(chunk);
    const lines: string[] = [];
    for (let line; (line = this.next()) !== null;) lines.push(line);
    return lines;
  }

  #stash(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const total = this.#partsLength + bytes.length;
    // One extra byte is allowed when it is the `\r` of a `\r\n` still on its way.
    if (
      total > this.#maxLineLength + 1 ||
      (total === this.#maxLineLength + 1 && bytes[bytes.length - 1] !== CR)
    ) {
      this.#pending = EMPTY;
      this.#partsLength = 0;
      this.#skipping = !this.#ended;
      this.#chunk = null;
      throw new FrameTooLargeError("line", total, this.#maxLineLength);
    }
    this.#append(bytes);
  }

  #append(bytes: Uint8Array): void {
    const total = this.#partsLength + bytes.length;
    if (total > this.#pending.length) {
      const grown = new Uint8Array(
        Math.max(total, Math.min(this.#pending.length * 2, this.#maxLineLength + 1), 64),
      );
      grown.set(this.#pending.subarray(0, this.#partsLength));
      this.#pending = grown;
    }
    this.#pending.set(bytes, this.#partsLength);
    this.#partsLength = total;
  }

  /** Appends `last` to the unfinished line and returns the whole line (valid until the next call). */
  #joinParts(last: Uint8Array): Uint8Array {
    this.#append(last);
    const line = this.#pending.subarray(0, this.#partsLength);
    this.#partsLength = 0;
    // The line is decoded before the buffer is reused; a big buffer from one
    // long line is not kept for the rest of the connection.
    if (this.#pending.length > KEEP_PENDING_BYTES) this.#pending = EMPTY;
    return line;
  }

  #takeFinalLine(): string | null {
    if (this.#partsLength === 0) return null;
    let line = this.#joinParts(new Uint8Array(0));
    if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.#maxLineLength) {
      throw new FrameTooLargeError("line", line.length, this.#maxLineLength);
    }
    return this.#textDecoder.decode(line);
  }
}

/**
 * A `TransformStream` from bytes to lines, built on {@linkcode LineDecoder}.
 *
 * An oversized line errors the stream with {@linkcode FrameTooLargeError};
 * lines decoded before it are delivered first. A final line without a
 * terminator is emitted when the input ends.
 *
 * @example Read lines from a byte stream
 * ```ts
 * import { LineDecoderStream } from "./line_decoder.ts";
 * import assert from "node:assert/strict";
 *
 * const lines = await Array.fromAsync(
 *   ReadableStream.from(["a\nb", "\r\nc"])
 *     .pipeThrough(new TextEncoderStream())
 *     .pipeThrough(new LineDecoderStream()),
 * );
 * assert.deepEqual(lines, ["a", "b", "c"]);
 * ```
 */
export class LineDecoderStream extends TransformStream<Uint8Array, string> {
  /**
   * Creates the stream.
   *
   * @param options Limits and UTF-8 handling.
   */
  constructor(options: LineDecoderOptions = {}) {
    const decoder = new LineDecoder(options);
    // Erroring a stream discards lines still queued for the reader, so an
    // error is held back until the next chunk arrives: the readable side's
    // backpressure guarantees by then every earlier line was read.
    let pending: unknown = undefined;
    const drain = (controller: TransformStreamDefaultController<string>) => {
      try {
        for (let line; (line = decoder.next()) !== null;) controller.enqueue(line);
      } catch (error) {
        pending = error;
      }
    };
    super({
      transform(chunk, controller) {
        if (pending !== undefined) throw pending;
        decoder.push(chunk);
        drain(controller);
      },
      flush(controller) {
        if (pending !== undefined) throw pending;
        decoder.end();
        drain(controller);
        if (pending !== undefined) throw pending;
      },
    });
  }
}

const encoder = new TextEncoder();

/**
 * Encodes one line of text as UTF-8 with a trailing `\n`.
 *
 * @param text The line, which must not contain `\n`.
 * @returns The encoded bytes.
 * @throws {TypeError} If `text` contains a newline.
 *
 * @example
 * ```ts
 * import { encodeLine } from "./line_decoder.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeLine("hi"), new TextEncoder().encode("hi\n"));
 * ```
 */
export function encodeLine(text: string): Uint8Array {
  if (text.includes("\n")) throw new TypeError("Cannot encode line: text contains a newline");
  return encoder.encode(text + "\n");
}
