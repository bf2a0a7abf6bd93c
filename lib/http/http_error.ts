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
