/**
 * The TCP echo server's connection handler: every byte back to the sender, streaming, with
 * backpressure, until the client half-closes.
 *
 * @module
 */

import { ReadBuffer } from "../io/read_buffer.ts";
import type { ServerLogger } from "../net/logger.ts";
import { formatAddr } from "../net/net_addr.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import type { ConnectionContext } from "./connection_handler.ts";

/** Byte and connection counts, printed at shutdown. */
export interface EchoStats {
  /** Connections served so far. */
  connections: number;
  /** Bytes echoed so far. */
  bytes: number;
}

/**
 * Returns a connection handler that echoes until the client half-closes. It reads the next
 * chunk only once the previous one has been written back, so a client that sends but never
 * reads stalls itself instead of making the server buffer without bound.
 *
 * @example An echo server counting what it echoed
 * ```ts ignore
 * import { echoHandler, type EchoStats } from "./echo_handler.ts";
 * import { serveTcp } from "./serve_tcp.ts";
 *
 * const stats: EchoStats = { connections: 0, bytes: 0 };
 * const server = serveTcp(echoHandler(console, stats), { port: 0 });
 * await server.finished;
 * console.log(`echoed ${stats.bytes} bytes`);
 * ```
 *
 * @param log Where connects and disconnects are logged (debug level: `--verbose`).
 * @param stats Counters updated as connections finish.
 * @returns The handler for {@linkcode serveTcp}.
 * @throws {Error} The returned handler rethrows a read or write error that is not a
 * disconnect (serveTcp logs it and closes the connection).
 */
export function echoHandler(
  log: ServerLogger,
  stats: EchoStats,
): (conn: Deno.Conn, ctx: ConnectionContext) => Promise<void> {
  return async (conn: Deno.Conn, ctx: ConnectionContext): Promise<void> => {
    log.debug(`#${ctx.id} ${formatAddr(ctx.remoteAddr)} connected`);
    stats.connections++;
    // conn.read() straight into a ReadBuffer, rather than a ChunkReader:
    // no promise of our own per read, which matters with thousands of idle
    // connections (see the idle figure of `deno task bench`).
    const buffer = new ReadBuffer();
    let bytes = 0;
    let how = "closed";
    try {
      for (let n; (n = await conn.read(buffer.bytes)) !== null;) {
        ctx.touch();
        // The write loop inline rather than writeAll(): one async function less per message,
        // about 3% of a one-connection ping-pong on one core.
        const chunk = buffer.take(n);
        for (let written = 0; written < n;) {
          written += await conn.write(written === 0 ? chunk : chunk.subarray(written));
        }
        bytes += n;
      }
    } catch (error) {
      // On Ctrl+C the server closes every connection (an echo has nothing to
      // finish), which ends the pending read here.
      if (!isDisconnectError(error)) throw error;
      how = ctx.signal.aborted ? "closed by shutdown" : `dropped (${(error as Error).message})`;
    } finally {
      stats.bytes += bytes;
      log.debug(
        `#${ctx.id} ${formatAddr(ctx.remoteAddr)} ${how} after echoing ${bytes} byte${
          bytes === 1 ? "" : "s"
        }`,
      );
    }
  };
}
