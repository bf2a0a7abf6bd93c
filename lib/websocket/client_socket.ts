/**
 * One interface over the two WebSocket clients a tool may use: the runtime's
 * `WebSocket` (which answers Pings itself and never shows them) and the
 * library's own client connection (`connectWebSocket`, which can show and send
 * Pings). `scripts/ws_client.ts` uses it so its modes do not care which one runs.
 *
 * @module
 */

import { closeWebSocket } from "./websocket_client.ts";
import type { WebSocketConnection } from "./websocket_connection.ts";

/** How a connection ended, from either kind of socket. */
export interface CloseInfo {
  /** The close code (1005 when the peer sent none). */
  code: number;
  /** The close reason, possibly empty. */
  reason: string;
}

/**
 * What a client tool needs of a WebSocket: the runtime's ({@linkcode fromWebSocket}), or the
 * library's own client ({@linkcode fromConnection}), which can also send a Ping.
 */
export interface ClientSocket {
  /** The subprotocol the server picked, or `""`. */
  readonly protocol: string;
  /** The extensions the server agreed, or `""`. */
  readonly extensions: string;
  /** Whether messages can still be sent. */
  isOpen(): boolean;
  /** Sends a text or binary message. */
  send(data: string | Uint8Array): void;
  /** Sends a Ping; `undefined` on the runtime's `WebSocket`, which has no way to. */
  ping: ((payload: Uint8Array) => void) | undefined;
  /** Hands every message to `onMessage` until the connection ends; resolves with the close. */
  listen(onMessage: (data: string | Uint8Array) => void): Promise<CloseInfo>;
  /** Sends Close 1000 without waiting; replies already on their way still arrive. */
  startClose(): void;
  /** Sends Close 1000 and waits for the server's answer, about 1 s at most. */
  close(): Promise<void>;
}

/**
 * Wraps the runtime's `WebSocket`.
 *
 * @example
 * ```ts ignore
 * import { fromWebSocket } from "./client_socket.ts";
 *
 * const socket = fromWebSocket(new WebSocket("ws://127.0.0.1:8080/echo"));
 * const closed = socket.listen((data) => console.log(data));
 * ```
 *
 * @param ws An open `WebSocket`.
 * @returns The same socket behind {@linkcode ClientSocket}; it has no `ping`.
 */
export function fromWebSocket(ws: WebSocket): ClientSocket {
  return {
    protocol: ws.protocol,
    extensions: ws.extensions,
    isOpen: () => ws.readyState === WebSocket.OPEN,
    send: (data) => ws.send(data),
    ping: undefined,
    listen(onMessage) {
      const { promise, resolve } = Promise.withResolvers<CloseInfo>();
      ws.onmessage = (event) =>
        onMessage(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
      ws.onclose = (event) => resolve({ code: event.code, reason: event.reason });
      return promise;
    },
    startClose: () => ws.close(1000),
    close: () => closeWebSocket(ws),
  };
}

/**
 * Wraps the library's client connection, which can send and show Pings.
 *
 * @example
 * ```ts ignore
 * import { connectWebSocket } from "./connect_websocket.ts";
 * import { fromConnection } from "./client_socket.ts";
 *
 * const socket = fromConnection(await connectWebSocket("ws://127.0.0.1:8080/echo"));
 * socket.ping?.(new TextEncoder().encode("hi"));
 * ```
 *
 * @param ws A connection from `connectWebSocket`.
 * @returns The same connection behind {@linkcode ClientSocket}.
 */
export function fromConnection(ws: WebSocketConnection): ClientSocket {
  return {
    protocol: ws.protocol ?? "",
    extensions: "",
    isOpen: () => ws.readyState === "open",
    send: (data) => void ws.send(data),
    ping: (payload) => void ws.ping(payload),
    async listen(onMessage) {
      // receive() in a loop: messages that came after our Close are still handed out.
      for (let message; (message = await ws.receive()) !== null;) onMessage(message.data);
      const { code, reason } = await ws.closed;
      return { code, reason };
    },
    startClose: () => void ws.close(1000).catch(() => {}),
    close: () => ws.close(1000).then(() => {}, () => {}),
  };
}
