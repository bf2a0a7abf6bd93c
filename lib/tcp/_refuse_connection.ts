/**
 * The refusal path of `serveTcp`: a client over the limit is accepted, told
 * the server is busy by the `refuse` handler, and closed once the handler
 * settles or `refusalTimeout` passes.
 *
 * @module
 */

import { closeQuietly } from "../io/close_quietly.ts";
import { writeAndLinger } from "../io/write_and_linger.ts";
import type { ServerLogger } from "../net/logger.ts";
import { formatAddr } from "../net/net_addr.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { type LimitReason, processSockets } from "./_descriptor_ceiling.ts";
import { errorText } from "./_error_text.ts";
import type { RefusalHandler } from "./refusal_handler.ts";

/** The most refusals in progress at once; more clients wait in the listen queue. */
export const MAX_PENDING_REFUSALS = 64;
export const DEFAULT_REFUSAL_TIMEOUT_MS = 2_000;
const DEFAULT_BUSY = "error: server busy (too many connections), try again later\r\n";

/** The default `refuse`: write `busy` (or the default busy line) and linger briefly. */
export function busyMessageRefusal(busy: string | Uint8Array = DEFAULT_BUSY): RefusalHandler {
  const busyBytes = typeof busy === "string" ? new TextEncoder().encode(busy) : busy;
  return (conn, ctx) => writeAndLinger(conn, busyBytes, { signal: ctx.signal });
}

/** What {@linkcode refuseConnection} needs from the server. */
export interface RefuseConnectionOptions {
  handler: RefusalHandler;
  /** How many connections the server serves now. */
  connectionCount: number;
  limit: number;
  reason: LimitReason;
  /** `refusalTimeout`, in ms. */
  timeout: number;
  /** The server's shutdown signal: a refusal in progress ends at once. */
  shutdownSignal: AbortSignal;
  logger: ServerLogger;
  /** Called once the connection is closed, before the handler's promise is awaited. */
  onClosed: () => void;
}

/**
 * Refuses one client: runs the handler, then closes the connection.
 *
 * @returns Settles once the connection is closed and the handler has ended; never rejects.
 */
export function refuseConnection(
  conn: Deno.Conn,
  { handler, connectionCount, limit, reason, timeout, shutdownSignal, logger, onClosed }:
    RefuseConnectionOptions,
): Promise<void> {
  const remoteAddr = conn.remoteAddr as Deno.NetAddr;
  logger.warn(
    `refused ${formatAddr(remoteAddr)}: ${connectionCount} connections (limit ${limit}: ${
      reason === "maxConnections" ? "maxConnections" : "open-file limit"
    })`,
  );
  processSockets.refusing++;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  const onShutdown = () => abort.abort();
  shutdownSignal.addEventListener("abort", onShutdown, { once: true });
  let result: Promise<void>;
  try {
    result = Promise.resolve(
      handler(conn, {
        remoteAddr,
        connectionCount,
        limit,
        reason,
        signal: abort.signal,
      }),
    );
  } catch (error) {
    result = Promise.reject(error);
  }
  const handled = result.catch((error) => {
    if (!isDisconnectError(error)) {
      logger.debug(`refusing ${formatAddr(remoteAddr)}: ${errorText(error)}`);
    }
  });
  const ended = new Promise<void>((resolve) =>
    abort.signal.addEventListener("abort", () => resolve(), { once: true })
  );
  return Promise.race([handled, ended]).then(async () => {
    clearTimeout(timer);
    shutdownSignal.removeEventListener("abort", onShutdown);
    abort.abort(); // ends a handler still lingering, and the `ended` listener
    closeQuietly(conn);
    processSockets.refusing--;
    onClosed();
    await handled; // closing ended its pending reads and writes
  });
}
