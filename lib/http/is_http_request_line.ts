/**
 * Recognising an HTTP request on a port that speaks another text protocol,
 * so a browser pointed there gets a real HTTP answer instead of an
 * "invalid response" page.
 *
 * @module
 */

// method SP request-target SP HTTP-version (RFC 9112 §3), the method a token.
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^\s]+ HTTP\/1\.[01]$/;

/**
 * Reports whether a line (without its line end) is an HTTP/1.x request
 * line, such as the `GET / HTTP/1.1` a browser sends first. A line-based
 * server checks its first line with it and, if so, answers in HTTP (for
 * example a 400 whose body names the right URL) and closes.
 *
 * @param line The first line a client sent, without CR LF.
 * @returns True if it is an HTTP/1.0 or HTTP/1.1 request line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isHttpRequestLine } from "./is_http_request_line.ts";
 *
 * assert.equal(isHttpRequestLine("GET /favicon.ico HTTP/1.1"), true);
 * assert.equal(isHttpRequestLine("alice"), false);
 * assert.equal(isHttpRequestLine("/join #http HTTP/1.1 fans"), false);
 * ```
 */
export function isHttpRequestLine(line: string): boolean {
  return REQUEST_LINE.test(line);
}
