/**
 * "Busy" said in HTTP: a `503 Service Unavailable` with `Retry-After` and a
 * one-line reason, for an HTTP (or WebSocket) server over its connection limit.
 *
 * @module
 */

import { HttpError } from "./http_error.ts";
import { encodeHttpErrorResponse } from "./http_response.ts";
import { writeAndLinger } from "../io/write_and_linger.ts";

/** Options for {@linkcode encodeServiceUnavailable}. */
export interface ServiceUnavailableOptions {
  /**
   * Seconds the client should wait before trying again, sent as `Retry-After`.
   *
   * @default {5}
   */
  retryAfter?: number;
}

/** Options for {@linkcode refuseWithServiceUnavailable}. */
export interface RefuseWithServiceUnavailableOptions extends ServiceUnavailableOptions {
  /**
   * The one-line reason, sent as the plain-text body.
   *
   * @default {"Server busy (too many connections), try again later"}
   */
  reason?: string;
  /**
   * Request bytes read and dropped after the response (see `writeAndLinger`).
   *
   * @default {1048576}
   */
  maxDrainBytes?: number;
}

/** What a refusal function needs from the server: when to stop. */
export interface RefusalSignal {
  /** Aborted when the server wants the connection closed. */
  readonly signal: AbortSignal;
}

/** Default {@linkcode RefuseWithServiceUnavailableOptions.reason}. */
export const DEFAULT_BUSY_REASON = "Server busy (too many connections), try again later";
/** Default {@linkcode ServiceUnavailableOptions.retryAfter}, in seconds. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * Encodes `HTTP/1.1 503 Service Unavailable` with `Retry-After`,
 * `Connection: close` and `reason` as a plain-text body.
 *
 * @param reason One line saying why, such as `Server busy (10000 connections), try again later`.
 * @param options When to retry.
 * @returns The response bytes.
 * @throws {TypeError} If `reason` contains CR or LF (it must be one line).
 * @throws {RangeError} If `retryAfter` is not a non-negative integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeServiceUnavailable } from "./service_unavailable.ts";
 *
 * const text = new TextDecoder().decode(encodeServiceUnavailable("Full, try later"));
 * assert.match(text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
 * assert.match(text, /\r\nRetry-After: 5\r\n/);
 * assert.ok(text.endsWith("\r\n\r\nFull, try later\n"));
 * ```
 */
export function encodeServiceUnavailable(
  reason: string,
  options: ServiceUnavailableOptions = {},
): Uint8Array {
  const retryAfter = options.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS;
  if (!Number.isInteger(retryAfter) || retryAfter < 0) {
    throw new RangeError(
      `Cannot encode 503 response: retryAfter ${retryAfter} is not a non-negative integer`,
    );
  }
  if (/[\r\n]/.test(reason)) {
    throw new TypeError("Cannot encode 503 response: the reason contains CR or LF");
  }
  return encodeHttpErrorResponse(
    new HttpError(503, reason, { "Retry-After": String(retryAfter) }),
  );
}

/**
 * Returns a refusal for `serveTcp`'s `refuse` option that answers every
 * client over the limit with {@linkcode encodeServiceUnavailable}, then reads
 * and drops the request until the client closes or the server's signal aborts,
 * so that closing never resets the connection before the client read the 503.
 * The response goes out at once, without waiting for the request: an HTTP
 * client reads a response after sending its request, whenever it arrived.
 *
 * @param options Reason, `Retry-After` and how much of the request to drain.
 * @returns The refusal function.
 * @throws {TypeError} If `reason` contains CR or LF.
 * @throws {RangeError} If `retryAfter` is not a non-negative integer.
 *
 * @example With serveTcp
 * ```ts ignore
 * import { serveTcp } from "../tcp/serve_tcp.ts";
 * import { refuseWithServiceUnavailable } from "./service_unavailable.ts";
 *
 * serveTcp(handleHttp, {
 *   port: 8080,
 *   maxConnections: 1000,
 *   refuse: refuseWithServiceUnavailable({ retryAfter: 10 }),
 * });
 * ```
 *
 * @example The bytes a refused client reads
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { refuseWithServiceUnavailable } from "./service_unavailable.ts";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * const refusing = refuseWithServiceUnavailable({ reason: "Full" })(server, {
 *   signal: AbortSignal.abort(), // stop after writing: no lingering in this example
 * });
 * await refusing;
 * let response = "";
 * const buffer = new Uint8Array(1024);
 * for (let n; (n = await client.read(buffer)) !== null;) {
 *   response += new TextDecoder().decode(buffer.subarray(0, n));
 * }
 * assert.match(response, /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*\r\n\r\nFull\n$/);
 * ```
 */
export function refuseWithServiceUnavailable(
  options: RefuseWithServiceUnavailableOptions = {},
): (conn: Deno.Conn, ctx: RefusalSignal) => Promise<void> {
  const response = encodeServiceUnavailable(options.reason ?? DEFAULT_BUSY_REASON, options);
  const { maxDrainBytes } = options;
  return (conn, ctx) => writeAndLinger(conn, response, { signal: ctx.signal, maxDrainBytes });
}
