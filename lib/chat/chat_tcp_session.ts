/**
 * One TCP client of the chat, from connect to disconnect: the nick greeting, the line loop,
 * the telnet layer, sniffing for clients that speak TLS or HTTP, long-line accounting and the
 * slow-client drop.
 *
 * @module
 */

import type { ChatHub } from "./chat_hub.ts";
import type { ChatSession } from "./chat_session.ts";
import { CHAT_SHUTDOWN_REASON } from "./websocket_member.ts";
import { TcpMember } from "./tcp_member.ts";
import type { ServerLogger } from "../net/logger.ts";
import { ChunkReader } from "../io/chunk_reader.ts";
import { FrameTooLargeError } from "../framing/frame_errors.ts";
import { encodeLine, LineDecoder } from "../framing/line_decoder.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { OutboundQueue, type OutboundQueueFailure } from "../io/outbound_queue.ts";
import { writeAll } from "../io/write_all.ts";
import { writeAndLinger } from "../io/write_and_linger.ts";
import { HttpError } from "../http/http_error.ts";
import { encodeHttpErrorResponse } from "../http/http_response.ts";
import { isHttpRequestLine } from "../http/is_http_request_line.ts";
import { type TelnetChunk, TelnetFilter } from "../telnet/telnet_filter.ts";

/** A TLS record starts with content type 22 (handshake), then version 3.x. */
const TLS_HANDSHAKE = 0x16;
const LF = 10;
const UTF8 = new TextDecoder();
const EMPTY = new Uint8Array(0);
/** How long an HTTP refusal may take to be read before the connection is closed, in ms. */
const HTTP_REFUSAL_MS = 2_000;
/** Default {@linkcode ChatTcpSessionOptions.sniffTimeout}, in ms. */
export const DEFAULT_SNIFF_TIMEOUT_MS = 250;

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
   * Said in the body of the HTTP 400 that a browser pointed at this port gets: where the web
   * page is (`the web chat is at http://127.0.0.1:8002/`) or how to turn it on.
   *
   * @default {"use the chat's web port for a browser"}
   */
  webAdvice?: string;
  /**
   * How long to wait, in ms, for the client to speak first before greeting it. A browser (or
   * a TLS client) sends its request at once and gets an answer in its own protocol, with no
   * greeting before it; `nc` and `telnet` users, who wait for the server, get the greeting
   * after this pause. A client that types first is greeted at once.
   *
   * @default {250}
   */
  sniffTimeout?: number;
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
 * - Telnet (RFC 854): a {@linkcode TelnetFilter} sits in front of the line decoder, so
 *   commands and option negotiation (PuTTY's at connect, `IAC IP IAC DO TIMING-MARK` for
 *   Ctrl+C) never reach the room or its history; its answers go through the same queue as the
 *   chat lines, in order, so telnet shows the room again after Ctrl+C. `nc` sees no change.
 * - A first chunk that starts a TLS handshake gets one error line saying this port speaks
 *   plain text; a first line that is an HTTP request line (a browser pointed here) gets a real
 *   HTTP 400 whose body gives `webAdvice`. Both come before any greeting (see `sniffTimeout`),
 *   and the connection is closed.
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
  const reader = new ChunkReader(conn);
  const telnet = new TelnetFilter();
  // Sniffing: a browser or a TLS client speaks first and must get no greeting before the
  // answer in its own protocol; nc and telnet users wait for the server, and get it shortly.
  const firstRead = reader.read();
  let first: Uint8Array | null | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    first = await Promise.race([
      firstRead,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(
          () => resolve(undefined),
          options.sniffTimeout ?? DEFAULT_SNIFF_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    if (!isDisconnectError(error)) log.error(`${who}: ${error}`);
    return;
  } finally {
    clearTimeout(timer);
  }
  if (first === null) return;
  if (first !== undefined && first[0] === TLS_HANDSHAKE) {
    log.info(`${who}: refused, not a chat client (TLS)`);
    await writeAll(conn, encodeLine("*** error: this chat speaks plain text, not TLS"))
      .catch(() => {});
    return;
  }
  const sniffed = first === undefined ? undefined : telnet.push(first);
  if (sniffed !== undefined && isHttpRequest(sniffed.data)) {
    log.info(`${who}: refused, not a chat client (HTTP)`);
    const refusal = new HttpError(
      400,
      "This port speaks the chat's line protocol (nc, telnet), not HTTP: " +
        (options.webAdvice ?? "use the chat's web port for a browser"),
    );
    // Lingering reads the rest of the request, so that closing does not reset the connection
    // before the browser has read the answer.
    const stop = AbortSignal.timeout(HTTP_REFUSAL_MS);
    await writeAndLinger(conn, encodeHttpErrorResponse(refusal), {
      signal: options.signal ? AbortSignal.any([stop, options.signal]) : stop,
    }).catch(() => {});
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
  function filterTelnet(chunk: Uint8Array | null): TelnetChunk | null {
    return chunk === null ? null : telnet.push(chunk);
  }
  options.queues?.add(queue);
  const member = new TcpMember(conn, queue, { closeGrace: options.closeGrace });
  // PuTTY's negotiation at connect is answered before the greeting.
  if (sniffed !== undefined && sniffed.reply.length > 0) queue.enqueue(sniffed.reply);
  session = hub.connect(member);
  log.info(`${who}: connected (${hub.sessionCount} online)`);

  // Lines up to maxLineBytes are handled; the decoder skips the rest of a
  // longer line without buffering it, and we count what it skipped.
  const decoder = new LineDecoder({ maxLineLength: hub.options.maxLineBytes });
  let skipped = 0;
  let firstLine = true;
  try {
    let out = sniffed !== undefined
      ? { data: sniffed.data, reply: EMPTY, commands: [] } // its reply went before the greeting
      : filterTelnet(await firstRead);
    for (; out !== null && !session.closed; out = filterTelnet(await reader.read())) {
      const data = out.data;
      if (firstLine && data[0] === TLS_HANDSHAKE) {
        session.disconnect("not a chat client", "*** error: this chat speaks plain text, not TLS");
        break;
      }
      decoder.push(data);
      if (decoder.skipping) skipped += data.length;
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
        if (firstLine && isHttpRequestLine(line)) {
          // Too late for an HTTP answer (the greeting went first): say it in a line.
          session.disconnect(
            "not a chat client",
            "*** error: this is a line-based chat server, not HTTP: connect with nc or telnet",
          );
          break;
        }
        firstLine = false;
        session.receive(line);
      }
      if (data.length > 0) firstLine = false;
      // Telnet answers go on the queue after the output of the lines before them: DO
      // TIMING-MARK (sent after Ctrl+C) asks for exactly that order (RFC 860), and telnet
      // shows what follows WILL TIMING-MARK again.
      if (out.reply.length > 0 && !session.closed) queue.enqueue(out.reply);
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

/** True if `data` starts with a complete line that is an HTTP request line. */
function isHttpRequest(data: Uint8Array): boolean {
  const end = data.indexOf(LF);
  if (end === -1) return false;
  return isHttpRequestLine(UTF8.decode(data.subarray(0, end)).replace(/\r$/, ""));
}
