/**
 * An HTTP error status to answer with, used by the request-head parser and the WebSocket handshake.
 *
 * @module
 */

/**
 * A request the server must refuse with an HTTP status, such as 400 for a malformed request or
 * 426 for an unsupported WebSocket version. The message is the reason sent in the response body.
 *
 * @example Usage
 * ```ts
 * import { HttpError } from "./http_error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new HttpError(404, "No WebSocket endpoint at /nope");
 * assert.equal(error.status, 404);
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status code to respond with. */
  readonly status: number;
  /** Extra response headers, such as `Sec-WebSocket-Version` on a 426. */
  readonly headers: Record<string, string>;

  /**
   * Creates an HTTP error.
   *
   * @param status The HTTP status code, 400-599.
   * @param message The reason, sent to the client as the response body.
   * @param headers Extra response headers.
   */
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

/**
 * A 400 for a byte that cannot begin or continue an HTTP/1.x request line,
 * raised as soon as that byte arrives rather than after the head timeout.
 * Callers catch it to add advice: when {@linkcode RequestLineError.likelyTls}
 * is true, the client started a TLS handshake on a plain-HTTP port, and a
 * script can say which flag turns TLS on.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError, RequestLineError } from "./http_error.ts";
 *
 * const error = new RequestLineError(0x16, 0);
 * assert.ok(error instanceof HttpError);
 * assert.equal(error.status, 400);
 * assert.equal(error.likelyTls, true);
 * assert.equal(error.message, "Malformed request line: byte 0x16 at offset 0 (a TLS handshake?)");
 * ```
 */
export class RequestLineError extends HttpError {
  /** The offending byte. */
  readonly byte: number;
  /** Its offset from the start of the request. */
  readonly offset: number;
  /** True when the request starts like a TLS ClientHello (byte 0x16, a handshake record). */
  readonly likelyTls: boolean;

  /**
   * Creates the error.
   *
   * @param byte The byte that cannot be part of a request line there.
   * @param offset Where it came, counted from the first byte of the request.
   */
  constructor(byte: number, offset: number) {
    const likelyTls = offset === 0 && byte === 0x16;
    super(
      400,
      `Malformed request line: byte 0x${byte.toString(16).padStart(2, "0")} at offset ${offset}${
        likelyTls ? " (a TLS handshake?)" : ""
      }`,
    );
    this.name = "RequestLineError";
    this.byte = byte;
    this.offset = offset;
    this.likelyTls = likelyTls;
  }
}
