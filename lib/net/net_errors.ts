/**
 * Turning the runtime's network errors into advice a user can act on.
 *
 * @module
 */

import { formatHostPort } from "./net_addr.ts";

/** Options for {@linkcode explainListenError}: the flags a script's user sets the address with. */
export interface ListenAdviceOptions {
  /**
   * The flag that sets the port, such as `"--port"` or `"--http-port"`; the advice then names it.
   *
   * @default {undefined} (the advice says "port")
   */
  portFlag?: string;
  /**
   * The flag that sets the address to bind, such as `"--host"`.
   *
   * @default {undefined} (the advice names the address only)
   */
  hostFlag?: string;
}

/**
 * Thrown by `serveTcp` and `listenUdp` when an address cannot be bound. It carries the address
 * and the runtime's error name as fields, and its message is advice without any command-line
 * flag; a script that wants its flags in the advice calls {@linkcode explainListenError} with
 * them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenError } from "./net_errors.ts";
 *
 * const error = new ListenError(new Deno.errors.AddrInUse("in use"), "127.0.0.1", 7000);
 * assert.equal(error.code, "AddrInUse");
 * assert.equal(error.port, 7000);
 * assert.equal(
 *   error.message,
 *   "address already in use: 127.0.0.1:7000 is taken (pick another port, or port 0 for any free one)",
 * );
 * ```
 */
export class ListenError extends Error {
  /** The runtime error's name, such as `"AddrInUse"` or `"NotCapable"`. */
  readonly code: string;
  /** The address that was being bound. */
  readonly hostname: string;
  /** The port that was being bound. */
  readonly port: number;

  /**
   * Wraps the error from `Deno.listen`, `Deno.listenTls` or `Deno.listenDatagram`.
   *
   * @param cause The runtime's error.
   * @param hostname The address that was being bound.
   * @param port The port that was being bound.
   */
  constructor(cause: unknown, hostname: string, port: number) {
    super(explainListenError(cause, hostname, port), { cause });
    this.name = "ListenError";
    this.code = cause instanceof Error ? cause.name : "Unknown";
    this.hostname = hostname;
    this.port = port;
  }
}

/**
 * Explains why listening on an address failed, with what to do about it.
 *
 * @param error The error thrown by `Deno.listen`, `Deno.listenTls` or `Deno.listenDatagram`, or
 * a {@linkcode ListenError} wrapping it.
 * @param hostname The address that was being bound.
 * @param port The port that was being bound.
 * @param options The script's flags for the port and address, to name them in the advice.
 * @returns One line, like `address already in use: 127.0.0.1:7000 is taken (pick another
 * --port, or --port 0 for any free one)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainListenError } from "./net_errors.ts";
 *
 * const inUse = new Deno.errors.AddrInUse("in use");
 * assert.equal(
 *   explainListenError(inUse, "127.0.0.1", 8002, { portFlag: "--http-port" }),
 *   "address already in use: 127.0.0.1:8002 is taken " +
 *     "(pick another --http-port, or --http-port 0 for any free one)",
 * );
 * assert.doesNotMatch(explainListenError(inUse, "127.0.0.1", 8002), /--/);
 * ```
 */
export function explainListenError(
  error: unknown,
  hostname: string,
  port: number,
  options: ListenAdviceOptions = {},
): string {
  if (error instanceof ListenError) error = error.cause;
  const where = formatHostPort(hostname, port);
  const portFlag = options.portFlag ?? "port";
  if (error instanceof Deno.errors.AddrInUse) {
    return `address already in use: ${where} is taken (pick another ${portFlag}, or ${portFlag} 0 for any free one)`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    // --allow-net is the runtime's own flag, not a script's: the advice always names it.
    return `permission denied: run with --allow-net=${
      hostname.includes(":") ? `[${hostname}]` : hostname
    } to listen on ${where}`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `permission denied binding ${where}: ports below 1024 need privileges (use a higher ${portFlag})`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    const host = options.hostFlag ? `${options.hostFlag} 127.0.0.1` : "127.0.0.1";
    return `cannot bind ${where}: that address does not belong to this machine (try ${host})`;
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
 * import assert from "node:assert/strict";
 * import { isDisconnectError } from "./net_errors.ts";
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
