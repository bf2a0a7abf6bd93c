/**
 * Turning the runtime's network errors into advice a user can act on.
 *
 * @module
 */

import { formatHostPort } from "./net_addr.ts";

/**
 * Explains why listening on an address failed, with what to do about it.
 *
 * @param error The error thrown by `Deno.listen`, `Deno.listenTls` or `Deno.listenDatagram`.
 * @param hostname The address that was being bound.
 * @param port The port that was being bound.
 * @returns One line, like `address already in use: 127.0.0.1:7000 is taken (pick another --port, or --port 0 for any free one)`.
 *
 * @example
 * ```ts
 * import { explainListenError } from "./net_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const text = explainListenError(new Deno.errors.AddrInUse("in use"), "127.0.0.1", 7000);
 * assert.match(text, /^address already in use/);
 * ```
 */
export function explainListenError(error: unknown, hostname: string, port: number): string {
  const where = formatHostPort(hostname, port);
  if (error instanceof Deno.errors.AddrInUse) {
    return `address already in use: ${where} is taken (pick another --port, or --port 0 for any free one)`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `permission denied: run with --allow-net=${
      hostname.includes(":") ? `[${hostname}]` : hostname
    } to listen on ${where}`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `permission denied binding ${where}: ports below 1024 need privileges (use a higher --port)`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `cannot bind ${where}: that address does not belong to this machine (try --host 127.0.0.1)`;
  }
  return `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * True for errors that mean the peer went away (reset, broken pipe, closed
 * mid-read) or that we closed the connection ourselves. Servers log these
 * quietly: they are part of normal life on a network.
 *
 * @param error Anything caught from a read or write.
 * @returns Whether the error is an ordinary disconnect.
 *
 * @example
 * ```ts
 * import { isDisconnectError } from "./net_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isDisconnectError(new Deno.errors.ConnectionReset("reset")), true);
 * assert.equal(isDisconnectError(new TypeError("bug")), false);
 * ```
 */
export function isDisconnectError(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.TimedOut;
}
