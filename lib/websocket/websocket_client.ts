/**
 * The client side on the runtime's built-in `WebSocket`: opening within a
 * time limit, with errors that say what the peer seems to be, and closing
 * with a status the server answers.
 *
 * @module
 */

import { formatHostPort, stripBrackets } from "../net/net_addr.ts";

/** Options for {@linkcode openWebSocket}. */
export interface OpenWebSocketOptions {
  /**
   * Give up on connect and handshake after this many milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
  /** Extra handshake headers (`Origin`, `Authorization`, ...). */
  headers?: HeadersInit;
  /**
   * Subprotocols to offer; `ws.protocol` says which one the server picked.
   *
   * @default {[]}
   */
  protocols?: string[];
  /** An HTTP client with extra trusted CA certificates, for a wss:// server. */
  client?: Deno.HttpClient;
}

/** Why {@linkcode openWebSocket} failed. */
export type WebSocketOpenErrorCode =
  | "permission"
  | "timeout"
  | "refused"
  | "rejected"
  | "not-http"
  | "not-tls"
  | "tls"
  | "other";

/** A WebSocket that could not be opened; `message` says what to check. */
export class WebSocketOpenError extends Error {
  /** What went wrong, for callers that word their own advice. */
  readonly code: WebSocketOpenErrorCode;
  /** The server as `host:port` (brackets for IPv6). */
  readonly where: string;
  /** The HTTP status of a rejected handshake. */
  readonly status: number | undefined;

  /**
   * Creates the error.
   *
   * @param code What went wrong.
   * @param where The server as `host:port`.
   * @param message The advice.
   * @param status The HTTP status of a rejected handshake.
   */
  constructor(code: WebSocketOpenErrorCode, where: string, message: string, status?: number) {
    super(message);
    this.name = "WebSocketOpenError";
    this.code = code;
    this.where = where;
    this.status = status;
  }
}

/**
 * Opens a WebSocket with `binaryType` `"arraybuffer"` and resolves once the
 * handshake is done, or rejects after `timeout` ms. The runtime's terse
 * errors are turned into advice: a refused connection, a rejected handshake
 * (403/404/426), `ws://` to a TLS server, `wss://` to a plain one.
 *
 * @param url A `ws://` or `wss://` URL.
 * @param options Time limit, headers, subprotocols and trusted CAs.
 * @returns The open socket.
 * @throws {WebSocketOpenError} If the socket does not open: see its `code`.
 *
 * @example
 * ```ts ignore
 * import { closeWebSocket, openWebSocket } from "./websocket_client.ts";
 *
 * const ws = await openWebSocket("ws://127.0.0.1:8080/echo", { timeout: 2000 });
 * ws.onmessage = (event) => console.log(event.data);
 * ws.send("hi");
 * await closeWebSocket(ws);
 * ```
 */
export function openWebSocket(
  url: string,
  options: OpenWebSocketOptions = {},
): Promise<WebSocket> {
  const timeout = options.timeout ?? 10_000;
  const { host, hostname, port, protocol } = new URL(url);
  const where = formatHostPort(
    stripBrackets(hostname),
    Number(port || (protocol === "wss:" ? 443 : 80)),
  );
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, {
      headers: options.headers,
      protocols: options.protocols ?? [],
      client: options.client,
    });
  } catch (error) {
    // The permission check happens in the constructor, before any packet is sent.
    if (error instanceof Deno.errors.NotCapable) {
      throw new WebSocketOpenError(
        "permission",
        where,
        `permission denied: run with --allow-net=${where}`,
      );
    }
    throw error;
  }
  ws.binaryType = "arraybuffer";
  const { promise, resolve, reject } = Promise.withResolvers<WebSocket>();
  const timer = setTimeout(() => {
    reject(
      new WebSocketOpenError(
        "timeout",
        where,
        `no WebSocket handshake with ${host} within ${timeout / 1000} s: ` +
          (protocol === "wss:"
            ? "does it speak TLS? For a plain server, try ws://"
            : "is it up, and is it a WebSocket server?"),
      ),
    );
    ws.close();
  }, timeout);
  ws.onopen = () => resolve(ws);
  ws.onerror = (event) => reject(explainOpenError(url, where, event));
  return promise.finally(() => {
    clearTimeout(timer);
    ws.onopen = null;
    ws.onerror = null;
  });
}

function explainOpenError(url: string, where: string, event: Event): WebSocketOpenError {
  const message = event instanceof ErrorEvent ? event.message : String(event);
  const { protocol, pathname, search } = new URL(url);
  const status = message.match(/status code:? (\d+)/i)?.[1];
  if (status) {
    const hints: Record<string, string> = {
      "403": "the server refused this Origin",
      "404": "no WebSocket endpoint at this path",
      "426": "the server wants another WebSocket version or a ws:// URL",
      "503": "the server is busy",
    };
    const hint = hints[status] ? ` (${hints[status]})` : "";
    return new WebSocketOpenError(
      "rejected",
      where,
      `handshake rejected by ${where}: HTTP ${status}${hint}`,
      Number(status),
    );
  }
  if (/connect error|refused/i.test(message)) {
    return new WebSocketOpenError(
      "refused",
      where,
      `connection refused: is the server running on ${where}?`,
    );
  }
  if (protocol === "ws:" && /invalid HTTP/i.test(message)) {
    return new WebSocketOpenError(
      "not-http",
      where,
      `${where} did not answer in plain HTTP: a TLS server? try wss://${where}${pathname}${search}`,
    );
  }
  if (protocol === "wss:" && /InvalidContentType|corrupt message|ClientHello/i.test(message)) {
    return new WebSocketOpenError(
      "not-tls",
      where,
      `TLS failed with ${where}: the server does not speak TLS (try ws://${where}${pathname}${search})`,
    );
  }
  if (/certificate|tls|ssl/i.test(message)) {
    return new WebSocketOpenError("tls", where, `TLS failed with ${where}: ${message}`);
  }
  return new WebSocketOpenError("other", where, `cannot connect to ${url}: ${message}`);
}

/** Options for {@linkcode closeWebSocket}. */
export interface CloseWebSocketOptions {
  /**
   * The close status to send.
   *
   * @default {1000}
   */
  code?: number;
  /**
   * Stop waiting for the server's Close after this many milliseconds.
   *
   * @default {1000}
   */
  timeout?: number;
}

/**
 * Closes a WebSocket and resolves once the server answered the Close, or
 * after `timeout` ms at most, so the last messages it sent arrive first and
 * a silent server cannot hold the caller.
 *
 * @param ws The socket to close.
 * @param options The status to send and how long to wait.
 * @returns When the socket is closed, or the wait is over.
 * @throws {DOMException} If `code` is not 1000 or 3000-4999 (from `WebSocket.close`).
 *
 * @example
 * ```ts ignore
 * import { closeWebSocket, openWebSocket } from "./websocket_client.ts";
 *
 * const ws = await openWebSocket("ws://127.0.0.1:8080/echo");
 * await closeWebSocket(ws, { timeout: 500 });
 * ```
 */
export async function closeWebSocket(
  ws: WebSocket,
  options: CloseWebSocketOptions = {},
): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const { promise, resolve } = Promise.withResolvers<void>();
  ws.addEventListener("close", () => resolve(), { once: true });
  ws.close(options.code ?? 1000);
  const timer = setTimeout(resolve, options.timeout ?? 1_000);
  await promise;
  clearTimeout(timer);
}
