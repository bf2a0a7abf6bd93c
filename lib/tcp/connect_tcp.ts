/**
 * Connecting to a TCP (or TLS) server with a timeout, retries, and error
 * messages that say what to check.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { formatHostPort } from "../net/net_addr.ts";

/** Options for {@linkcode connectTcp}. */
export interface ConnectTcpOptions {
  /**
   * The host name or address to connect to.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port to connect to. */
  port: number;
  /**
   * Give up on one attempt after this many milliseconds (TCP and TLS
   * handshakes included).
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * How many times to try again after a refused, reset or timed-out attempt.
   * Name-resolution and permission errors are not retried.
   *
   * @default {0}
   */
  retries?: number;
  /**
   * The pause before the first retry, in ms; it doubles on each retry up to 5 s.
   *
   * @default {200}
   */
  retryDelay?: number;
  /**
   * Speak TLS over the connection.
   *
   * @default {false}
   */
  tls?: boolean;
  /** Extra PEM certificates to trust, for a server with a self-signed certificate. */
  caCerts?: string[];
  /** Abort the attempts (the error's `code` is then `"aborted"`). */
  signal?: AbortSignal;
  /** Called before each retry, with the failure and the pause ahead (for a "retrying" message). */
  onRetry?: (error: ConnectError, attempt: number, delay: number) => void;
}

/** Why a connection could not be made. */
export type ConnectErrorCode =
  | "refused"
  | "timeout"
  | "dns"
  | "unreachable"
  | "reset"
  | "permission"
  | "tls"
  | "aborted"
  | "other";

/**
 * A connection attempt failed. The message names the address and suggests a
 * cause, like `connection refused: is the server running on 127.0.0.1:7000?`;
 * `code` lets callers branch, `cause` keeps the runtime's error.
 *
 * @example
 * ```ts ignore
 * import { ConnectError, connectTcp } from "./connect_tcp.ts";
 *
 * try {
 *   await connectTcp({ port: 7000 });
 * } catch (error) {
 *   if (error instanceof ConnectError) console.error(`error: ${error.message}`);
 * }
 * ```
 */
export class ConnectError extends Error {
  /** The kind of failure. */
  readonly code: ConnectErrorCode;

  /**
   * Creates the error.
   *
   * @param code The kind of failure.
   * @param message The advice.
   * @param cause The runtime's error, if any.
   */
  constructor(code: ConnectErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "ConnectError";
    this.code = code;
  }
}

/**
 * Connects to a TCP server, or a TLS server with `tls: true`.
 *
 * @param options Where to connect, timeout, retries and TLS trust.
 * @returns The open connection.
 * @throws {ConnectError} When every attempt failed; the message says what to check.
 *
 * @example Connect with retries while a server starts
 * ```ts ignore
 * import { connectTcp } from "./connect_tcp.ts";
 *
 * const conn = await connectTcp({ hostname: "127.0.0.1", port: 7000, retries: 5 });
 * conn.close();
 * ```
 */
export async function connectTcp(options: ConnectTcpOptions): Promise<Deno.Conn> {
  const hostname = options.hostname ?? "127.0.0.1";
  const retries = options.retries ?? 0;
  let delay = options.retryDelay ?? 200;
  for (let attempt = 0;; attempt++) {
    try {
      return await connectOnce(hostname, options);
    } catch (error) {
      const retryable = error instanceof ConnectError &&
        (error.code === "refused" || error.code === "timeout" || error.code === "reset");
      if (!retryable || attempt >= retries) throw error;
      options.onRetry?.(error, attempt + 1, delay);
      // An abort ends the pause early; the caller checks the signal next.
      await sleep(delay, undefined, { signal: options.signal }).catch(() => {});
      if (options.signal?.aborted) {
        throw new ConnectError(
          "aborted",
          `connection to ${formatHostPort(hostname, options.port)} aborted`,
        );
      }
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

async function connectOnce(hostname: string, options: ConnectTcpOptions): Promise<Deno.Conn> {
  const where = formatHostPort(hostname, options.port);
  const timeout = options.timeout ?? 5_000;
  // Our own controller, aborted only while the attempt is still pending: the
  // runtime also uses the signal to close an established connection.
  const attempt = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    attempt.abort();
  }, timeout);
  const onAbort = () => attempt.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let conn: Deno.Conn | undefined;
  try {
    if (options.signal?.aborted) throw new DOMException("aborted", "AbortError");
    conn = await Deno.connect({ hostname, port: options.port, signal: attempt.signal });
    if (options.tls) {
      // startTls takes over the TCP connection; finish the handshake here so
      // certificate errors are reported as such, under the same timeout.
      const tcp = conn as Deno.TcpConn;
      conn = undefined;
      const tls = await Deno.startTls(tcp, { hostname, caCerts: options.caCerts });
      conn = tls;
      const aborted = new Promise<never>((_, reject) =>
        attempt.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true })
      );
      aborted.catch(() => {});
      await Promise.race([tls.handshake(), aborted]);
    }
    return conn;
  } catch (error) {
    if (conn) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    if (timedOut) {
      throw new ConnectError(
        "timeout",
        `timed out after ${timeout} ms connecting to ${where}: is the host up and the port open (no firewall dropping packets)?`,
        error,
      );
    }
    if (options.signal?.aborted) {
      throw new ConnectError("aborted", `connection to ${where} aborted`, error);
    }
    throw explainConnectError(error, hostname, options.port, options.tls ?? false);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Turns an error from `Deno.connect` or a TLS handshake into a
 * {@linkcode ConnectError} with advice.
 *
 * @param error The runtime's error.
 * @param hostname The host that was being connected to.
 * @param port The port.
 * @param tls Whether TLS was being used.
 * @returns The explained error.
 *
 * @example
 * ```ts
 * import { explainConnectError } from "./connect_tcp.ts";
 * import assert from "node:assert/strict";
 *
 * const error = explainConnectError(new Deno.errors.ConnectionRefused("refused"), "127.0.0.1", 7000, false);
 * assert.equal(error.message, "connection refused: is the server running on 127.0.0.1:7000?");
 * ```
 */
export function explainConnectError(
  error: unknown,
  hostname: string,
  port: number,
  tls: boolean,
): ConnectError {
  const where = formatHostPort(hostname, port);
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.ConnectionRefused) {
    return new ConnectError(
      "refused",
      `connection refused: is the server running on ${where}?`,
      error,
    );
  }
  if (error instanceof Deno.errors.NotCapable) {
    return new ConnectError(
      "permission",
      `permission denied: run with --allow-net=${where}`,
      error,
    );
  }
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.UnexpectedEof
  ) {
    return new ConnectError(
      "reset",
      `connection to ${where} was reset${
        tls
          ? " during the TLS handshake: is it a TLS server?"
          : ": the server closed it at once (full or crashing?)"
      }`,
      error,
    );
  }
  // A plain server does not answer a ClientHello with a ServerHello: an echo server sends the
  // ClientHello back, a text server sends text, which TLS reads as a corrupt record.
  if (
    tls && error instanceof Deno.errors.InvalidData &&
    /got ClientHello|corrupt message|InvalidContentType/i.test(detail)
  ) {
    return new ConnectError(
      "tls",
      `TLS handshake with ${where} failed: the server does not speak TLS (a plain TCP server? drop --tls)`,
      error,
    );
  }
  if (
    /certificate|invalid peer|UnknownIssuer|tls|handshake/i.test(detail) ||
    (tls && error instanceof Deno.errors.InvalidData)
  ) {
    return new ConnectError(
      "tls",
      `TLS handshake with ${where} failed: ${detail} (self-signed server? pass its certificate with --ca FILE)`,
      error,
    );
  }
  if (/dns|lookup|resolve|name or service|failed to lookup/i.test(detail)) {
    return new ConnectError(
      "dns",
      `cannot resolve host '${hostname}': check the name (${detail})`,
      error,
    );
  }
  if (/unreachable|no route/i.test(detail)) {
    return new ConnectError(
      "unreachable",
      `cannot reach ${where}: no route to the host (${detail})`,
      error,
    );
  }
  return new ConnectError("other", `cannot connect to ${where}: ${detail}`, error);
}

/**
 * The one-line warning a client prints before a retry, the same in every script:
 * `connection refused: is the server running on 127.0.0.1:7000? (retry 1 of 3 in 0.2 s)`.
 *
 * @param error Why the attempt failed.
 * @param attempt The retry about to be made, from 1.
 * @param retries How many retries there are in all.
 * @param delay The pause before it, in ms.
 * @returns The warning, without a prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectError, formatRetry } from "./connect_tcp.ts";
 *
 * const error = new ConnectError("refused", "connection refused: is the server running on 127.0.0.1:7000?");
 * assert.equal(
 *   formatRetry(error, 1, 3, 200),
 *   "connection refused: is the server running on 127.0.0.1:7000? (retry 1 of 3 in 0.2 s)",
 * );
 * ```
 */
export function formatRetry(
  error: ConnectError,
  attempt: number,
  retries: number,
  delay: number,
): string {
  return `${error.message} (retry ${attempt} of ${retries} in ${
    Number((delay / 1000).toFixed(3))
  } s)`;
}
