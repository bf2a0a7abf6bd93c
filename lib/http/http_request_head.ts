/**
 * An incremental parser for the head of an HTTP/1.1 request (request line and headers), with
 * limits, for servers that speak just enough HTTP to upgrade to WebSocket.
 *
 * @module
 */

import { HttpError, RequestLineError } from "./http_error.ts";

/** The parsed request line and headers. */
export interface HttpRequestHead {
  /** The method, such as `GET`. */
  method: string;
  /** The request target as sent, such as `/echo?room=1`. */
  target: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  version: string;
  /** The headers; repeated headers are joined with `, `. */
  headers: Headers;
}

/** Options for {@linkcode HttpRequestHeadDecoder}. */
export interface HttpRequestHeadDecoderOptions {
  /**
   * Largest head in bytes, request line and headers included; more gives status 431.
   *
   * @default {16384}
   */
  maxHeadSize?: number;
  /**
   * Largest number of header lines; more gives status 431.
   *
   * @default {100}
   */
  maxHeaders?: number;
}

/** Default {@linkcode HttpRequestHeadDecoderOptions.maxHeadSize}: 16 KiB, as in Node.js. */
export const DEFAULT_MAX_HEAD_SIZE = 16 * 1024;
/** Default {@linkcode HttpRequestHeadDecoderOptions.maxHeaders}. */
export const DEFAULT_MAX_HEADERS = 100;

// RFC 9110 §5.6.2: a method or header name is a "token".
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VERSION = /^HTTP\/1\.[01]$/;
const CRLF_CRLF = [13, 10, 13, 10];
const SP = 0x20;
const CR = 13;
const LF = 10;
const HTTP_1_DOT = [...new TextEncoder().encode("HTTP/1.")];
/** TCHAR[b] is 1 when byte b may appear in a token (RFC 9110 §5.6.2). */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/**
 * Where the request line check is: in the method, the target, the version
 * (`at` counts its bytes), at its CR or LF, or past the line.
 */
type LineState = "method" | "target" | "version" | "cr" | "lf" | "done";

/**
 * Collects the bytes of an HTTP request head from chunks of any size and parses it once the
 * blank line arrives.
 *
 * The search for the blank line resumes where the previous chunk ended, so many small chunks
 * cost linear time. Bytes after the head (sent early by an eager client) are kept in
 * {@linkcode HttpRequestHeadDecoder.rest}.
 *
 * The request line is checked byte by byte as it arrives (method token, one space, a target
 * without controls, one space, `HTTP/1.0` or `HTTP/1.1`, CR LF), so a client that speaks
 * something else (a TLS ClientHello, a Redis command, binary) gets its 400 at the first byte
 * that cannot be HTTP, as from nginx or Node's parser, instead of after the head timeout.
 *
 * @example Usage
 * ```ts
 * import { HttpRequestHeadDecoder } from "./http_request_head.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new HttpRequestHeadDecoder();
 * const bytes = new TextEncoder().encode("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
 * assert.equal(decoder.decode(bytes.subarray(0, 10)), undefined);
 * const head = decoder.decode(bytes.subarray(10));
 * assert.equal(head?.target, "/echo");
 * assert.equal(head?.headers.get("host"), "a");
 * ```
 */
export class HttpRequestHeadDecoder {
  #maxHeadSize: number;
  #maxHeaders: number;
  #buffer: Uint8Array;
  #filled = 0;
  #matched = 0; // how many bytes of CRLF CRLF end the buffered bytes
  #rest: Uint8Array = new Uint8Array(0);
  #done = false;
  #line: LineState = "method";
  #lineAt = 0; // bytes of the request line seen so far
  #partLength = 0; // bytes of the current part (method, target or version)

  /**
   * Creates a decoder.
   *
   * @param options Limits.
   */
  constructor(options: HttpRequestHeadDecoderOptions = {}) {
    this.#maxHeadSize = options.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE;
    this.#maxHeaders = options.maxHeaders ?? DEFAULT_MAX_HEADERS;
    this.#buffer = new Uint8Array(Math.min(1024, this.#maxHeadSize));
  }

  /** Bytes that followed the head in the last chunk (empty until the head is complete). */
  get rest(): Uint8Array {
    return this.#rest;
  }

  /**
   * Consumes a chunk and returns the parsed head once the blank line that ends it arrived.
   *
   * @param chunk The next bytes from the client; not kept after the call.
   * @returns The head, or `undefined` while more bytes are needed.
   * @throws {RequestLineError} 400 at the first byte that cannot be part of a request line.
   * @throws {HttpError} 400 if the head is malformed, 431 if it exceeds a limit.
   * @throws {TypeError} If called again after the head was returned.
   */
  decode(chunk: Uint8Array): HttpRequestHead | undefined {
    if (this.#done) throw new TypeError("Cannot decode request head: it is already complete");
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.#line !== "done") this.#checkRequestLine(byte);
      // A tiny matcher for CRLF CRLF: after a mismatch, a CR may still start a new match.
      if (byte === CRLF_CRLF[this.#matched]) this.#matched++;
      else this.#matched = byte === 13 ? 1 : 0;
      if (this.#matched === 4) {
        this.#append(chunk.subarray(0, i + 1));
        this.#rest = chunk.slice(i + 1);
        this.#done = true;
        return this.#parse();
      }
    }
    this.#append(chunk);
    return undefined;
  }

  /** Follows the request line one byte at a time; throws at the first byte that cannot fit. */
  #checkRequestLine(byte: number): void {
    const at = this.#lineAt++;
    switch (this.#line) {
      case "method":
        if (TCHAR[byte]) {
          this.#partLength++;
          return;
        }
        if (byte === SP && this.#partLength > 0) return this.#next("target");
        break;
      case "target":
        // Visible ASCII, and (leniently, like nginx) bytes above 0x7F; no controls or spaces.
        if (byte > SP && byte !== 0x7f) {
          this.#partLength++;
          return;
        }
        if (byte === SP && this.#partLength > 0) return this.#next("version");
        break;
      case "version": {
        const n = this.#partLength;
        if (n < HTTP_1_DOT.length ? byte === HTTP_1_DOT[n] : byte === 0x30 || byte === 0x31) {
          if (++this.#partLength === HTTP_1_DOT.length + 1) this.#next("cr");
          return;
        }
        break;
      }
      case "cr":
        if (byte === CR) return this.#next("lf");
        break;
      case "lf":
        if (byte === LF) return this.#next("done");
        break;
    }
    throw new RequestLineError(byte, at);
  }

  #next(state: LineState): void {
    this.#line = state;
    this.#partLength = 0;
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#filled + bytes.length;
    if (needed > this.#maxHeadSize) {
      throw new HttpError(
        431,
        `Request head exceeds ${this.#maxHeadSize} bytes`,
      );
    }
    if (needed > this.#buffer.length) {
      // Doubling keeps the total copying linear in the head size.
      const bigger = new Uint8Array(
        Math.min(this.#maxHeadSize, Math.max(needed, this.#buffer.length * 2)),
      );
      bigger.set(this.#buffer.subarray(0, this.#filled));
      this.#buffer = bigger;
    }
    this.#buffer.set(bytes, this.#filled);
    this.#filled = needed;
  }

  #parse(): HttpRequestHead {
    // Header bytes outside ASCII are kept as Latin-1, as RFC 9110 §5.5 describes for obs-text.
    const text = new TextDecoder("latin1").decode(this.#buffer.subarray(0, this.#filled - 4));
    const lines = text.split("\r\n");
    const requestLine = lines[0]!;
    const parts = requestLine.split(" ");
    if (parts.length !== 3) {
      throw new HttpError(
        400,
        `Malformed request line: ${JSON.stringify(requestLine.slice(0, 80))}`,
      );
    }
    const [method, target, version] = parts as [string, string, string];
    if (!TOKEN.test(method) || target === "" || !VERSION.test(version)) {
      throw new HttpError(
        400,
        `Malformed request line: ${JSON.stringify(requestLine.slice(0, 80))}`,
      );
    }
    if (lines.length - 1 > this.#maxHeaders) {
      throw new HttpError(431, `Request has more than ${this.#maxHeaders} headers`);
    }
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon);
      // No space before the colon and no folded lines (RFC 9112 §5.1, §5.2).
      if (colon <= 0 || !TOKEN.test(name)) {
        throw new HttpError(400, `Malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
      }
      const value = line.slice(colon + 1).trim();
      if (/[\0\r\n]/.test(value)) {
        throw new HttpError(400, `Malformed header value for ${name}`);
      }
      try {
        headers.append(name, value);
      } catch {
        throw new HttpError(400, `Malformed header value for ${name}`);
      }
    }
    return { method, target, version, headers };
  }
}

/** Options for {@linkcode readRequestHead}. */
export interface ReadRequestHeadOptions extends HttpRequestHeadDecoderOptions {
  /**
   * Stops waiting when aborted, for a handshake deadline such as `AbortSignal.timeout(10_000)`;
   * a client that never finishes its head would otherwise hold the connection forever.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** A request head and the bytes that arrived after it. */
export interface RequestHeadWithRest {
  /** The parsed head. */
  head: HttpRequestHead;
  /** Bytes after the blank line (a copy), to be handled by whoever reads on. */
  rest: Uint8Array;
}

/**
 * Reads chunks until a complete request head arrived, and parses it.
 *
 * @param reader Where the bytes come from, usually a `ChunkReader` over a `Deno.Conn`.
 * @param options Limits and a signal to stop waiting.
 * @returns The head and the bytes after it, or `null` if the client closed before sending one.
 * @throws {HttpError} 400 or 431 as {@linkcode HttpRequestHeadDecoder.decode} does, 408 when
 * `signal` aborts first. After a 408 a read may still be pending: close the connection.
 *
 * @example Usage
 * ```ts ignore
 * import { ChunkReader } from "../io/chunk_reader.ts";
 * import { readRequestHead } from "./http_request_head.ts";
 *
 * const conn = await Deno.connect({ port: 8080 });
 * const request = await readRequestHead(new ChunkReader(conn), { signal: AbortSignal.timeout(10_000) });
 * console.log(request?.head.target);
 * ```
 */
export async function readRequestHead(
  reader: { read(): Promise<Uint8Array | null> },
  options: ReadRequestHeadOptions = {},
): Promise<RequestHeadWithRest | null> {
  const { signal } = options;
  const decoder = new HttpRequestHeadDecoder(options);
  // Racing each read against the signal: the read itself cannot be cancelled, which is why the
  // caller closes the connection after a 408.
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  aborted.catch(() => {}); // it is only raced; never leave it unhandled
  const onAbort = () => reject(new HttpError(408, "Request head took too long"));
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    let seen = 0;
    for (;;) {
      const chunk = await Promise.race([reader.read(), aborted]);
      if (chunk === null) {
        if (seen === 0) return null;
        throw new HttpError(400, "Request head ended before the blank line");
      }
      seen += chunk.length;
      const head = decoder.decode(chunk);
      if (head) return { head, rest: decoder.rest };
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
