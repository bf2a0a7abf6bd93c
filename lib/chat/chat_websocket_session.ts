/**
 * One browser (or any WebSocket client) of the chat, from upgrade to close.
 *
 * @module
 */

import type { ChatHub } from "./chat_hub.ts";
import type { ChatSession } from "./chat_session.ts";
import { CHAT_SHUTDOWN_REASON, WebSocketMember } from "./websocket_member.ts";
import type { ServerLogger } from "../net/logger.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { CLOSE_CODE } from "../websocket/websocket_close.ts";
import type { WebSocketConnection } from "../websocket/websocket_connection.ts";

const UTF8 = new TextDecoder();

/** Options for {@linkcode runChatWebSocketSession}. */
export interface ChatWebSocketSessionOptions {
  /**
   * How the client is named in logs.
   *
   * @default {"client"}
   */
  label?: string;
  /**
   * Aborted on server shutdown: the hub then tells everyone and closes them (1001).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Send-queue bytes that drop the member at once (create `ws` with this `maxBufferedAmount`).
   *
   * @default {1048576}
   */
  hardLimit?: number;
  /**
   * Send-queue bytes that drop the member when held for `softTimeout`.
   *
   * @default {262144}
   */
  softLimit?: number;
  /**
   * Milliseconds the send queue may stay above `softLimit`.
   *
   * @default {10000}
   */
  softTimeout?: number;
  /**
   * A set the connection is in while the session runs (to sum what slow readers cost).
   *
   * @default {undefined}
   */
  sockets?: Set<WebSocketConnection>;
  /**
   * Where connects, disconnects and slow clients are logged.
   *
   * @default {console}
   */
  logger?: Pick<ServerLogger, "info" | "warn" | "error">;
}

/**
 * Runs one WebSocket chat client until it closes or is disconnected: it joins `hub` as a
 * {@linkcode WebSocketMember}; each message it sends is one line (a pasted message with several
 * lines counts line by line, for flood control too), and each line it gets is one text message.
 *
 * @param ws The upgraded server-side connection.
 * @param hub The hub the client joins.
 * @param options Queue bounds, the shutdown signal and the logger.
 * @returns A promise that resolves once the connection is closed; it does not reject on network
 * errors (they are logged).
 *
 * @example After the upgrade
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { ChatHub } from "./chat_hub.ts";
 * import { runChatWebSocketSession } from "./chat_websocket_session.ts";
 *
 * // `ws` comes from acceptHttpUpgrade() on the chat's web port.
 * const hub = new ChatHub();
 * await runChatWebSocketSession(ws, hub, { label: "#1 web" });
 * assert.equal(hub.sessionCount, 0);
 * ```
 */
export async function runChatWebSocketSession(
  ws: WebSocketConnection,
  hub: ChatHub,
  options: ChatWebSocketSessionOptions = {},
): Promise<void> {
  const log = options.logger ?? console;
  const who = options.label ?? "client";
  let session: ChatSession | undefined = undefined;
  const member = new WebSocketMember(ws, {
    hardLimit: options.hardLimit,
    softLimit: options.softLimit,
    softTimeout: options.softTimeout,
    onSlow: (message) => {
      log.warn(`${who}: ${message}; disconnecting`);
      session?.disconnect(
        "too slow",
        "*** disconnected: you are not reading your messages fast enough",
      );
    },
  });
  options.sockets?.add(ws);
  const onShutdown = () => hub.close(CHAT_SHUTDOWN_REASON);
  options.signal?.addEventListener("abort", onShutdown);
  session = hub.connect(member);
  log.info(`${who}: connected over WebSocket (${hub.sessionCount} online)`);
  let reason = "connection closed";
  try {
    for (let message; (message = await ws.receive()) !== null;) {
      // Invalid UTF-8 in a binary message is replaced, as on TCP; a text message was checked.
      const text = message.type === "text" ? message.data : UTF8.decode(message.data);
      for (const line of text.replace(/\r?\n$/, "").split(/\r?\n/)) {
        if (session.closed) break;
        session.receive(line);
      }
      if (session.closed) break;
    }
    const { code } = await ws.closed;
    if (code === CLOSE_CODE.MESSAGE_TOO_BIG) reason = "message too big";
    if (code === CLOSE_CODE.PROTOCOL_ERROR || code === CLOSE_CODE.INVALID_PAYLOAD) {
      reason = "protocol error";
    }
  } catch (error) {
    if (!isDisconnectError(error)) log.error(`${who}: ${error}`);
  } finally {
    options.signal?.removeEventListener("abort", onShutdown);
    await session.end(reason);
    const closed = await ws.closed;
    options.sockets?.delete(ws);
    log.info(
      `${who}: disconnected with ${closed.code}${closed.reason ? ` ${closed.reason}` : ""} ` +
        `(${hub.sessionCount} online)`,
    );
  }
}
