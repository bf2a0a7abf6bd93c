/**
 * Just enough HTTP/1.1 for a WebSocket server on a raw TCP connection: parse
 * a request head with limits, and answer with a page or an error.
 *
 * (For an ordinary HTTP server use the runtime's `Deno.serve`. This package
 * exists because the WebSocket servers here own their TCP connections, to
 * keep their own frame layer and limits.)
 *
 * - {@linkcode HttpRequestHeadDecoder} and {@linkcode readRequestHead}
 *   (http_request_head.ts): the request line and headers, bounded in size
 *   and count; the bytes after the head are kept for the next protocol.
 * - {@linkcode encodeHttpResponse} and {@linkcode encodeHttpErrorResponse}
 *   (http_response.ts): a minimal response, and the answer to an
 *   {@linkcode HttpError} (http_error.ts).
 *
 * @example
 * ```ts
 * import { HttpRequestHeadDecoder } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const head = new HttpRequestHeadDecoder().decode(
 *   new TextEncoder().encode("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
 * );
 * assert.equal(head?.method, "GET");
 * assert.equal(head?.target, "/chat");
 * ```
 *
 * @module
 */
export * from "./host_check.ts";
export * from "./http_error.ts";
export * from "./http_request_head.ts";
export * from "./http_response.ts";
export * from "./is_http_request_line.ts";
export * from "./service_unavailable.ts";
