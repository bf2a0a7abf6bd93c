/**
 * One TCP client of the chat, from connect to disconnect: the nick greeting, the line loop,
 * sniffing for clients that speak TLS or HTTP, long-line accounting and the slow-client drop.
 *
 * @module
 */

import type { ChatHub, ChatSession } from "./chat_hub.ts";
import { CHAT_SHUTDOWN_REASON } from "./websocket_member.ts";
import { TcpMember } from "./tcp_member.ts";
import type { ServerLogger } from "../net/logger.ts";
import { ChunkReader } from "../io/chunk_reader.ts";
import { FrameTooLargeError } from "../framing/frame_errors.ts";
import { encodeLine, LineDecoder } from "../framing/line_decoder.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { OutboundQueue, type OutboundQueueFailure } from "../io/outbound_queue.ts";
import { writeAll } from "../io/write_all.ts";

/** The first line of an HTTP request: someone pointed a browser or curl at the chat port. */
const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d(\.\d)?$/;
/** A TLS record starts with content type 22 (handshake), then version 3.x. */
const TLS_HANDSHAKE = 0x16;

/** Options for {@linkcode runChatTcpSession}. */
export interface ChatTcpSessionOptions {
  /**
   * How the client is named in logs.
   *
   * @default {"client"}
   */
  label?: string;
  /**
   * Aborted on server shutdown: the hub then tells everyone and closes them.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Sessions (TCP and WebSocket) the hub may hold; a client past it gets one error line.
   *
   * @default {10000}
   */
  maxClients?: number;
  /**
   * An unterminated line longer than this many bytes disconnects the client.
   *
   * @default {65536}
   */
  maxLineSkip?: number;
  /**
   * Outbound queue bytes that disconnect at once.
   *
   * @default {1048576}
   */
  hardLimit?: number;
  /**
   * Outbound queue bytes that disconnect when held for `softTimeout`.
   *
   * @default {262144}
   */
  softLimit?: number;
  /**
   * Milliseconds the queue may stay above `softLimit`.
   *
   * @default {10000}
   */
  softTimeout?: number;
  /**
   * How long the client's last lines may take to drain when it is closed, in ms.
   *
   * @default {1000}
   */
  closeGrace?: number;
  /**
   * A set the session's outbound queue is in while it runs (to sum what slow readers cost).
   *
   * @default {undefined}
   */
  queues?: Set<OutboundQueue>;
  /**
   * Where connects, disconnects and slow clients are logged.
   *
   * @default {console}
   */
  logger?: Pick<ServerLogger, "info" | "warn" | "error">;
}

/**
 * Runs one TCP chat client until it leaves or is disconnected: it joins `hub` as a
 * {@linkcode TcpMember} with a bounded outbound queue, and every line it sends goes to the hub.
 *
 * - A first chunk that starts a TLS handshake, or a first line that is an HTTP request line,
 *   gets one error line saying what this port speaks, and the connection is closed.
 * - Lines up to the hub's `maxLineBytes` are handled; a longer one gets an error line and is
 *   skipped without being buffered, and one longer than `maxLineSkip` without a newline
 *   disconnects.
 * - A client whose queue crosses a bound is told it is too slow and disconnected.
 * - An unterminated last line (the client vanished mid-line) is dropped, not relayed.
 *
 * @param conn The client's connection; closed when the session ends.
 * @param hub The hub the client joins.
 * @param options Limits, the shutdown signal and the logger.
 * @returns A promise that resolves once the client is gone and its connection closed; it does
 * not reject on network errors (they are logged).
 *
 * @example A TCP chat on serveTcp
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { serveTcp } from "../tcp/serve_tcp.ts";
 * import { ChatHub } from "./chat_hub.ts";
 * import { runChatTcpSession } from "./chat_tcp_session.ts";
 *
 * const hub = new ChatHub();
 * const server = serveTcp((conn, ctx) => runChatTcpSession(conn, hub, { signal: ctx.signal }), {
 *   port: 0,
 * });
 * assert.ok(server.addr.port > 0);
 * await server.shutdown();
 * hub.close("bye");
 * ```
 */
export async function runChatTcpSession(
  conn: Deno.Conn,
  hub: ChatHub,
  options: ChatTcpSessionOptions = {},
): Promise<void> {
  const log = options.logger ?? console;
  const who = options.label ?? "client";
  const maxLineSkip = options.maxLineSkip ?? 65_536;
  // Chat lines are small and should go out at once; the outbound queue already
  // joins lines written in the same moment, which is what Nagle's algorithm is for.
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  if (hub.sessionCount >= (options.maxClients ?? 10_000)) {
    // The limit counts browsers too; the TCP listener alone only counts TCP clients.
    await writeAll(conn, encodeLine("*** error: the chat is full, try again later"));
    return;
  }
  const onShutdown = () => hub.close(CHAT_SHUTDOWN_REASON);
  options.signal?.addEventListener("abort", onShutdown);

  // Set just below; the queue can fail (and call dropSlowClient) only once lines flow.
  let session: ChatSession | undefined = undefined;
  const queue = new OutboundQueue(conn, {
    hardLimit: options.hardLimit ?? 1_048_576,
    softLimit: options.softLimit ?? 262_144,
    softTimeout: options.softTimeout ?? 10_000,
    onFailure: (failure) => dropSlowClient(failure),
  });
  function dropSlowClient(failure: OutboundQueueFailure): void {
    if (failure.kind === "writeError") return session?.disconnect("connection lost");
    log.warn(`${who}: ${failure.message}; disconnecting`);
    session?.disconnect(
      "too slow",
      "*** disconnected: you are not reading your messages fast enough",
    );
  }
  options.queues?.add(queue);
  const member = new TcpMember(conn, queue, { closeGrace: options.closeGrace });
  session = hub.connect(member);
  log.info(`${who}: connected (${hub.sessionCount} online)`);

  const reader = new ChunkReader(conn);
  // Lines up to maxLineBytes are handled; the decoder skips the rest of a
  // longer line without buffering it, and we count what it skipped.
  const decoder = new LineDecoder({ maxLineLength: hub.options.maxLineBytes });
  let skipped = 0;
  let first = true;
  try {
    while (!session.closed) {
      const chunk = await reader.read();
      if (chunk === null) break;
      if (first && chunk[0] === TLS_HANDSHAKE) {
        session.disconnect("not a chat client", "*** error: this chat speaks plain text, not TLS");
        break;
      }
      decoder.push(chunk);
      if (decoder.skipping) skipped += chunk.length;
      for (;;) {
        let line: string | null;
        try {
          line = decoder.next();
        } catch (error) {
          if (!(error instanceof FrameTooLargeError)) throw error;
          session.rejectLongLine(error.size);
          skipped = error.size;
          continue;
        }
        if (line === null) break;
        if (first && HTTP_REQUEST_LINE.test(line)) {
          session.disconnect(
            "not a chat client",
            "*** error: this is a line-based chat server, not HTTP: connect with nc or telnet",
          );
          break;
        }
        first = false;
        session.receive(line);
      }
      first = false;
      if (!decoder.skipping) skipped = 0;
      if (skipped > maxLineSkip) {
        session.disconnect(
          "line too long",
          `*** error: a line longer than ${maxLineSkip} bytes without a newline; disconnecting`,
        );
      }
    }
  } catch (error) {
    if ("handshake" in conn && error instanceof Deno.errors.InvalidData) {
      // A failed TLS handshake is the client's doing: plain text on the TLS port, or a client
      // that does not trust the certificate (its alert names why).
      log.info(`${who}: TLS failed: ${error.message}`);
    } else if (!isDisconnectError(error)) log.error(`${who}: ${error}`);
  } finally {
    options.signal?.removeEventListener("abort", onShutdown);
    // end(): lines still waiting for the relay's answer are handled before the goodbye.
    await session.end("connection closed");
    await member.closed;
    options.queues?.delete(queue);
    log.info(`${who}: disconnected (${hub.sessionCount} online)`);
  }
}
