/**
 * An incremental decoder for RESP, the Redis serialization protocol, in both
 * its versions: RESP2 (`+ - : $ *`) and the RESP3 additions (`_ , # ( = % ~ >`).
 *
 * @module
 */

import { FrameTooLargeError } from "../framing/frame_errors.ts";

/** An error reply from the server (`-ERR unknown command`): a value, not a broken stream. */
export class RedisReplyError extends Error {
  /** The first word of the reply, such as `ERR`, `WRONGTYPE` or `NOAUTH`. */
  readonly code: string;

  /**
   * Creates the error from the reply's text.
   *
   * @param text The reply without its `-` and line end.
   */
  constructor(text: string) {
    super(text);
    this.name = "RedisReplyError";
    this.code = text.split(" ", 1)[0] ?? "";
  }
}

/** A RESP3 push (`>`): out-of-band data such as a pub/sub message. */
export class RespPush {
  /** The pushed items, for example `["message", "room", "hello"]`. */
  readonly items: RespValue[];

  /**
   * Wraps the items of a push.
   *
   * @param items The pushed items.
   */
  constructor(items: RespValue[]) {
    this.items = items;
  }
}

/** A decoded RESP value. Bulk and verbatim strings decode as UTF-8 text. */
export type RespValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | RedisReplyError
  | RespPush
  | RespValue[]
  | Map<RespValue, RespValue>;

/** Limits for {@linkcode RespDecoder}; each is checked from a header, before buffering. */
export interface RespDecoderOptions {
  /**
   * The longest bulk string accepted, in bytes (Redis's own
   * `proto-max-bulk-len` defaults to 512 MiB; a chat needs far less).
   *
   * @default {16777216}
   */
  maxBulkLength?: number;
  /**
   * The most elements in one array, set, map or push.
   *
   * @default {1048576}
   */
  maxElements?: number;
  /**
   * The deepest nesting of aggregates.
   *
   * @default {16}
   */
  maxDepth?: number;
  /**
   * The most bytes buffered for one unfinished reply (headers and all).
   *
   * @default {33554432}
   */
  maxBufferedBytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const INCOMPLETE = Symbol("incomplete");
const TEXT = new TextDecoder();
/** The longest header line (type byte, a length or a simple string) before a line end must come. */
const MAX_LINE = 64 * 1024;

/**
 * Turns the bytes of a Redis connection into replies, however the bytes are
 * split across reads.
 *
 * Push every chunk that arrives, then take replies with `next()` until it
 * returns `undefined` (more bytes needed). Lengths are checked against the
 * limits as soon as their header is read, so a hostile `$999999999` costs
 * nothing. A reply that is not valid RESP throws `SyntaxError`; the stream
 * cannot be resynchronised after that, so close the connection.
 *
 * ```ts ignore
 * const reply = decode(await conn.read(buffer)); // Bad: one read is not one reply
 * decoder.push(chunk); while ((reply = decoder.next()) !== undefined) {...} // Good
 * ```
 *
 * @example Replies split at any byte come out whole
 * ```ts
 * import assert from "node:assert/strict";
 * import { RespDecoder } from "./resp_decoder.ts";
 *
 * const decoder = new RespDecoder();
 * const bytes = new TextEncoder().encode("+OK\r\n*2\r\n$5\r\nhello\r\n:42\r\n");
 * decoder.push(bytes.subarray(0, 12));
 * assert.equal(decoder.next(), "OK");
 * assert.equal(decoder.next(), undefined); // the array is not complete yet
 * decoder.push(bytes.subarray(12));
 * assert.deepEqual(decoder.next(), ["hello", 42]);
 * assert.equal(decoder.next(), undefined);
 * ```
 */
export class RespDecoder {
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #pos = 0;
  #depth = 0;
  #maxBulk: number;
  #maxElements: number;
  #maxDepth: number;
  #maxBuffered: number;

  /**
   * Creates a decoder.
   *
   * @param options Limits, each with a default.
   * @throws {RangeError} If a limit is not a positive integer.
   */
  constructor(options: RespDecoderOptions = {}) {
    this.#maxBulk = positive("maxBulkLength", options.maxBulkLength ?? 16 * 1024 * 1024);
    this.#maxElements = positive("maxElements", options.maxElements ?? 1024 * 1024);
    this.#maxDepth = positive("maxDepth", options.maxDepth ?? 16);
    this.#maxBuffered = positive("maxBufferedBytes", options.maxBufferedBytes ?? 32 * 1024 * 1024);
  }

  /** Bytes received but not yet returned as replies. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /**
   * Adds bytes from the connection. The bytes are copied, so the caller may
   * reuse its buffer.
   *
   * @param chunk Bytes as they arrived.
   * @throws {FrameTooLargeError} If the unfinished reply would exceed `maxBufferedBytes`.
   */
  push(chunk: Uint8Array): void {
    const held = this.#end - this.#start;
    if (held + chunk.length > this.#maxBuffered) {
      throw new FrameTooLargeError("reply", held + chunk.length, this.#maxBuffered);
    }
    if (this.#end + chunk.length > this.#buffer.length) {
      // Move what is held to the front; grow (doubling, up to the limit) if it still does not fit.
      const needed = held + chunk.length;
      if (needed > this.#buffer.length) {
        const doubled = Math.min(Math.max(this.#buffer.length * 2, 4096), this.#maxBuffered);
        const next = new Uint8Array(Math.max(needed, doubled));
        next.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = next;
      } else {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = held;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * Takes the next complete reply.
   *
   * @returns The reply, or `undefined` when more bytes are needed. An error
   *   reply is returned as a {@linkcode RedisReplyError} value, not thrown.
   * @throws {SyntaxError} If the bytes are not RESP.
   * @throws {FrameTooLargeError} If a header announces more than a limit allows.
   */
  next(): RespValue | undefined {
    if (this.#start === this.#end) return undefined;
    this.#pos = this.#start;
    this.#depth = 0;
    const value = this.#value();
    if (value === INCOMPLETE) return undefined;
    this.#start = this.#pos;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return value;
  }

  #value(): RespValue | typeof INCOMPLETE {
    const line = this.#line();
    if (line === null) return INCOMPLETE;
    const type = line[0];
    const rest = line.slice(1);
    switch (type) {
      case "+":
        return rest;
      case "-":
        return new RedisReplyError(rest);
      case ":":
        return this.#integer(rest);
      case "$":
      case "=":
      case "!": {
        const length = this.#length(rest, type, this.#maxBulk, "bulk string");
        if (length < 0) return null;
        if (this.#end - this.#pos < length + 2) return INCOMPLETE;
        const bytes = this.#buffer.subarray(this.#pos, this.#pos + length);
        if (
          this.#buffer[this.#pos + length] !== CR || this.#buffer[this.#pos + length + 1] !== LF
        ) {
          throw new SyntaxError("Cannot decode RESP: a bulk string does not end with CRLF");
        }
        this.#pos += length + 2;
        // A verbatim string starts with a three-letter format and a colon ("txt:").
        const text = TEXT.decode(type === "=" ? bytes.subarray(4) : bytes);
        return type === "!" ? new RedisReplyError(text) : text;
      }
      case "*":
      case "~":
      case ">": {
        const count = this.#length(rest, type, this.#maxElements, "aggregate");
        if (count < 0) return null;
        const items = this.#items(count);
        if (items === INCOMPLETE) return INCOMPLETE;
        return type === ">" ? new RespPush(items) : items;
      }
      case "%": {
        const count = this.#length(rest, type, this.#maxElements, "aggregate");
        const items = this.#items(count * 2);
        if (items === INCOMPLETE) return INCOMPLETE;
        const map = new Map<RespValue, RespValue>();
        for (let i = 0; i < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
        return map;
      }
      case "_":
        return null;
      case "#":
        if (rest === "t" || rest === "f") return rest === "t";
        throw new SyntaxError(`Cannot decode RESP: boolean "${rest}" is neither t nor f`);
      case ",": {
        const number = rest === "inf" ? Infinity : rest === "-inf" ? -Infinity : Number(rest);
        if (Number.isNaN(number) && rest !== "nan") {
          throw new SyntaxError(`Cannot decode RESP: "${rest}" is not a double`);
        }
        return number;
      }
      case "(":
        if (!/^-?\d+$/.test(rest)) {
          throw new SyntaxError(`Cannot decode RESP: "${rest}" is not a big number`);
        }
        return BigInt(rest);
      default:
        throw new SyntaxError(
          `Cannot decode RESP: unknown type byte ${JSON.stringify(type)} (is this a Redis server?)`,
        );
    }
  }

  #items(count: number): RespValue[] | typeof INCOMPLETE {
    if (++this.#depth > this.#maxDepth) {
      throw new FrameTooLargeError("reply nesting", this.#depth, this.#maxDepth);
    }
    const items: RespValue[] = [];
    for (let i = 0; i < count; i++) {
      const item = this.#value();
      if (item === INCOMPLETE) return INCOMPLETE;
      items.push(item);
    }
    this.#depth--;
    return items;
  }

  /** Reads one CRLF-terminated line at `#pos`, or returns null if it has not all arrived. */
  #line(): string | null {
    const buffer = this.#buffer;
    const limit = Math.min(this.#end, this.#pos + MAX_LINE);
    for (let i = this.#pos; i < limit; i++) {
      if (buffer[i] === LF) throw new SyntaxError("Cannot decode RESP: LF without CR");
      if (buffer[i] === CR) {
        if (i + 1 >= this.#end) return null;
        if (buffer[i + 1] !== LF) {
          throw new SyntaxError("Cannot decode RESP: CR not followed by LF");
        }
        const line = TEXT.decode(buffer.subarray(this.#pos, i));
        this.#pos = i + 2;
        if (line.length === 0) throw new SyntaxError("Cannot decode RESP: empty line");
        return line;
      }
    }
    if (limit - this.#pos >= MAX_LINE) {
      throw new FrameTooLargeError("RESP line", limit - this.#pos, MAX_LINE);
    }
    return null;
  }

  #integer(text: string): number {
    if (!/^[-+]?\d+$/.test(text)) {
      throw new SyntaxError(`Cannot decode RESP: "${text}" is not an integer`);
    }
    return Number(text);
  }

  #length(text: string, type: string, max: number, what: string): number {
    const length = this.#integer(text);
    if (length === -1 && type !== "%" && type !== "=") return -1; // RESP2 null bulk / null array
    if (length < 0) throw new SyntaxError(`Cannot decode RESP: negative length ${length}`);
    if (length > max) throw new FrameTooLargeError(what, length, max);
    return length;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`Cannot create RespDecoder: ${name} ${value} is not a positive integer`);
  }
  return value;
}
