/**
 * Encoding of a minimal HTTP/1.1 response, enough for a WebSocket server's refusals and page.
 *
 * @module
 */

import type { HttpError } from "./http_error.ts";

const REASON_PHRASES: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Options for {@linkcode encodeHttpResponse}. */
export interface EncodeHttpResponseOptions {
  /**
   * Response headers. `Content-Length` is added when there is a body or the status is not 101.
   *
   * @default {{}}
   */
  headers?: Record<string, string>;
  /**
   * The response body; a string is sent as UTF-8.
   *
   * @default {undefined} (no body)
   */
  body?: string | Uint8Array;
}

/**
 * Encodes an HTTP/1.1 response: status line, headers, blank line and body.
 *
 * @param status The status code; its reason phrase comes from a small table of the codes a
 * WebSocket server uses.
 * @param options Headers and body.
 * @returns The response bytes.
 * @throws {TypeError} If a header name or value contains CR or LF (response splitting).
 *
 * @example Usage
 * ```ts
 * import { encodeHttpResponse } from "./http_response.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeHttpResponse(404, { body: "Not here\n" });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot here\n",
 * );
 * ```
 */
export function encodeHttpResponse(
  status: number,
  options: EncodeHttpResponseOptions = {},
): Uint8Array {
  const { headers = {}, body } = options;
  const bodyBytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  let head = `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new TypeError(
        `Cannot encode response: header ${JSON.stringify(name)} contains CR or LF`,
      );
    }
    head += `${name}: ${value}\r\n`;
  }
  if (status !== 101) head += `Content-Length: ${bodyBytes?.length ?? 0}\r\n`;
  head += "\r\n";
  const headBytes = new TextEncoder().encode(head);
  if (!bodyBytes) return headBytes;
  const out = new Uint8Array(headBytes.length + bodyBytes.length);
  out.set(headBytes, 0);
  out.set(bodyBytes, headBytes.length);
  return out;
}

/**
 * Encodes the response for a refused request: the error's status and headers, `Connection:
 * close`, and the message as a plain-text body, so that a human using curl sees the reason.
 *
 * @param error The refusal.
 * @returns The response bytes.
 *
 * @example Usage
 * ```ts
 * import { HttpError } from "./http_error.ts";
 * import { encodeHttpErrorResponse } from "./http_response.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeHttpErrorResponse(new HttpError(403, "Origin not allowed"));
 * assert.match(new TextDecoder().decode(bytes), /^HTTP\/1.1 403 Forbidden\r\n[^]*\r\n\r\nOrigin not allowed\n$/);
 * ```
 */
export function encodeHttpErrorResponse(error: HttpError): Uint8Array {
  return encodeHttpResponse(error.status, {
    headers: {
      ...error.headers,
      "Content-Type": "text/plain; charset=utf-8",
      Connection: "close",
    },
    body: `${error.message}\n`,
  });
}
