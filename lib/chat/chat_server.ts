/**
 * The chat server: one {@linkcode ChatHub} served to TCP clients (`nc`, `telnet`) on one port
 * and to browsers (a page and its WebSocket) on another, all in the same rooms.
 *
 * @module
 */

import { ChatHub } from "./chat_hub.ts";
import type { ChatHubOptions } from "./chat_hub_options.ts";
import { CHAT_PAGE_PAGES, CHAT_WEBSOCKET_PATH } from "./chat_page.ts";
import { runChatTcpSession } from "./chat_tcp_session.ts";
import { runChatWebSocketSession } from "./chat_websocket_session.ts";
import { CHAT_SHUTDOWN_REASON } from "./websocket_member.ts";
import { type ServerLogger, STDERR_LOGGER } from "../net/logger.ts";
import { HttpError } from "../http/http_error.ts";
import {
  DEFAULT_RETRY_AFTER_SECONDS,
  refuseWithServiceUnavailable,
} from "../http/service_unavailable.ts";
import type { OutboundQueue } from "../io/outbound_queue.ts";
import { formatAddr } from "../net/net_addr.ts";
import { onShutdownSignal } from "../net/shutdown_signals.ts";
import {
  type ConnectionContext,
  serveTcp,
  type TcpServer,
  type TlsCertifiedKey,
} from "../tcp/serve_tcp.ts";
import { acceptHttpUpgrade } from "../websocket/accept_http_upgrade.ts";
import type { WebSocketConnection } from "../websocket/websocket_connection.ts";
import type { PerMessageDeflateOptions } from "../websocket/websocket_deflate.ts";
import { createOriginPolicy } from "../websocket/websocket_handshake.ts";

/** How long a closing client gets to receive its last lines (a goodbye, a notice), in ms. */
const CLOSE_GRACE_MS = 1_000;
/** Options for {@linkcode startChatServer}: the hub's limits plus the TCP ones. */
export interface ChatServerOptions extends ChatHubOptions {
  /**
   * The address to bind.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one.
   *
   * @default {7002}
   */
  port?: number;
  /**
   * The port of the web side: the page at `GET /` and its WebSocket endpoint `/chat`, on
   * `hostname`. 0 picks a free one; `undefined` serves TCP only.
   *
   * @default {undefined}
   */
  httpPort?: number;
  /**
   * Serve TLS with this PEM certificate and key on both ports: `tls://` for line clients
   * (`openssl s_client`, `ncat --ssl`, `chat_client.ts --tls`) and `https://` with `wss://` on
   * the web side.
   *
   * @default {undefined} (plain TCP and `http://`)
   */
  tls?: TlsCertifiedKey;
  /**
   * permessage-deflate for the web side's WebSocket: its threshold, level and window limits, or
   * `false` to turn it off. A line sent to many browsers is compressed once for all of them.
   *
   * @default {{}} (on, with the defaults of `PerMessageDeflateOptions`)
   */
  perMessageDeflate?: PerMessageDeflateOptions | false;
  /**
   * Origins whose pages may open the chat's WebSocket besides the chat's own page (`"*"`: any).
   * Without this check any web site a user visits could join the chat in their name.
   *
   * @default {[]}
   */
  allowedOrigins?: string[];
  /**
   * Clients served at once, TCP and WebSocket together; the next ones are refused (one line
   * on TCP, HTTP 503 with `Retry-After` on the web side, however full the server is).
   *
   * @default {10000}
   */
  maxClients?: number;
  /**
   * Seconds a web client refused with 503 (the chat is full) is told to wait (`Retry-After`).
   *
   * @default {5}
   */
  retryAfter?: number;
  /**
   * Names the web port's `Host` header may give besides the server's own address (and
   * `localhost` when bound to loopback), for the page and the WebSocket alike; other names get
   * 403, against DNS rebinding. A leading dot allows subdomains too.
   *
   * @default {[]}
   */
  allowedHosts?: string[];
  /**
   * The flag named in the web port's 403 for a refused `Host`.
   *
   * @default {"--allow-host"}
   */
  allowHostFlag?: string;
  /**
   * Advice in the 400 the web port sends at once to a client that starts a TLS handshake.
   *
   * @default {"this port speaks plain HTTP"}
   */
  tlsAdvice?: string;
  /**
   * What an HTTP request on the TCP port is told when there is no web port (`httpPort`
   * undefined): how to start one. With a web port, it is told the page's URL.
   *
   * @default {"the web chat is off: start the chat server with a web port (httpPort)"}
   */
  noWebAdvice?: string;
  /**
   * An unterminated line longer than this many bytes disconnects its client
   * (lines up to `maxLineBytes` are relayed; longer ones get an error line).
   * On the web side, a WebSocket message longer than this is refused from its
   * frame header with close code 1009.
   *
   * @default {65536}
   */
  maxLineSkip?: number;
  /**
   * A client's outbound queue past this many bytes: disconnect at once. The same bound holds
   * for a WebSocket member's send queue (frame bytes).
   *
   * @default {1048576}
   */
  queueHardLimit?: number;
  /**
   * A client's outbound queue above this many bytes for `queueSoftTimeout`: disconnect.
   * For a WebSocket member it is checked at each send and when the timer fires.
   *
   * @default {262144}
   */
  queueSoftLimit?: number;
  /**
   * Milliseconds a queue may stay above `queueSoftLimit`.
   *
   * @default {10000}
   */
  queueSoftTimeout?: number;
  /**
   * Shut down on SIGINT and SIGTERM (a second Ctrl+C exits at once).
   *
   * @default {false}
   */
  handleSignals?: boolean;
  /**
   * Let other listeners (worker threads) bind the same two ports; Linux spreads connections
   * between them. Needs `--unstable-net`.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Where connects, disconnects and errors are logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** A running chat server. */
export interface ChatServer {
  /** The bound address (read the port here after `port: 0`). */
  readonly addr: Deno.NetAddr;
  /** The web side's address, when `httpPort` was given. */
  readonly httpAddr: Deno.NetAddr | undefined;
  /** The rooms and sessions. */
  readonly hub: ChatHub;
  /** Resolves when the server has shut down and every client is gone. */
  readonly finished: Promise<void>;
  /** Bytes waiting in all clients' outbound queues now: what slow readers cost in memory. */
  readonly queuedBytes: number;
  /** Tells every client "server shutting down", closes them, stops listening on both ports. */
  shutdown(): Promise<void>;
}

/**
 * Thrown by {@linkcode startChatServer} when a port cannot be bound: says which of the two
 * listeners failed, so a script can name the right flag in its advice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChatListenError } from "./chat_server.ts";
 *
 * const error = new ChatListenError("http", new Error("address already in use"));
 * assert.equal(error.listener, "http");
 * assert.equal(error.message, "Cannot listen on the web port: address already in use");
 * ```
 */
export class ChatListenError extends Error {
  /** Which listener failed: the TCP chat port or the web (HTTP) port. */
  readonly listener: "tcp" | "http";

  /**
   * Wraps the error from binding one listener.
   *
   * @param listener Which listener failed.
   * @param cause The error `serveTcp` threw.
   */
  constructor(listener: "tcp" | "http", cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `Cannot listen on the ${listener === "tcp" ? "chat" : "web"} port: ${detail}`,
      { cause },
    );
    this.name = "ChatListenError";
    this.listener = listener;
  }
}

/**
 * Starts a chat server: TCP clients on `port`, and when `httpPort` is given, the page at `GET /`
 * and its WebSocket at `/chat` on that port. Both kinds of client share one hub, one client
 * limit and the same queue bounds.
 *
 * @param options Addresses, limits and logging.
 * @returns The running server.
 * @throws {ChatListenError} If either port cannot be bound (the other listener is released
 * first); its `listener` says which one and its `cause` is the error from `serveTcp`.
 *
 * @example A chat on free ports
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { startChatServer } from "./chat_server.ts";
 *
 * const server = startChatServer({ port: 0, httpPort: 0 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const greeting = new TextDecoder().decode((await conn.readable.getReader().read()).value);
 * assert.match(greeting, /Pick a nick/);
 * conn.close();
 * await server.shutdown();
 * ```
 */
export function startChatServer(options: ChatServerOptions = {}): ChatServer {
  const log = options.logger ?? STDERR_LOGGER;
  const hub = new ChatHub(options);
  const maxLineSkip = options.maxLineSkip ?? 65_536;
  const maxClients = options.maxClients ?? 10_000;
  const bounds = {
    hardLimit: options.queueHardLimit ?? 1_048_576,
    softLimit: options.queueSoftLimit ?? 262_144,
    softTimeout: options.queueSoftTimeout ?? 10_000,
  };
  const queues = new Set<OutboundQueue>();
  const sockets = new Set<WebSocketConnection>();
  const originPolicy = createOriginPolicy(options.allowedOrigins ?? []);
  // One switch for both listeners: shutdown() and Ctrl+C abort it.
  const stop = new AbortController();

  const retryAfter = options.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS;
  const FULL = "The chat is full, try again later";

  /** What an HTTP request on the TCP port is told: where the page is, or how to turn it on. */
  function webAdvice(): string {
    if (web === undefined) {
      return options.noWebAdvice ??
        "the web chat is off: start the chat server with a web port (httpPort)";
    }
    const { hostname, port } = web.addr;
    // A wildcard address is no place to browse to; the user knows the machine's name.
    const host = hostname === "0.0.0.0" || hostname === "::"
      ? `THIS-HOST:${port}`
      : formatAddr(web.addr);
    return `the web chat is at http://${host}/`;
  }

  function handleTcp(conn: Deno.Conn, ctx: ConnectionContext): Promise<void> {
    return runChatTcpSession(conn, hub, {
      webAdvice: webAdvice(),
      ...bounds,
      label: `#${ctx.id} ${formatAddr(ctx.remoteAddr)}`,
      signal: ctx.signal,
      maxClients,
      maxLineSkip,
      closeGrace: CLOSE_GRACE_MS,
      queues,
      logger: log,
    });
  }

  /** The web side: `GET /` serves the page, `/chat` upgrades to a WebSocket chat member. */
  async function handleWeb(conn: Deno.Conn, ctx: ConnectionContext): Promise<void> {
    const label = `#${ctx.id} ${formatAddr(ctx.remoteAddr)} (web)`;
    const accepted = await acceptHttpUpgrade(conn, {
      pages: CHAT_PAGE_PAGES,
      endpoints: [CHAT_WEBSOCKET_PATH],
      signal: ctx.signal,
      // DNS rebinding: the Host must name this server, for the page and the WebSocket alike.
      hostCheck: {
        bound: web!.addr,
        allowedHosts: options.allowedHosts ?? [],
        flag: options.allowHostFlag,
      },
      tlsAdvice: options.tlsAdvice,
      beforeUpgrade: () => {
        if (hub.sessionCount >= maxClients) {
          throw new HttpError(503, FULL, { "Retry-After": String(retryAfter) });
        }
      },
      upgrade: {
        // A browser sends Origin with every WebSocket request; the policy refuses (403) pages
        // from other sites, which would otherwise join the chat in the user's name.
        originPolicy,
        perMessageDeflate: options.perMessageDeflate ?? {},
        // Lines up to maxLineBytes are relayed and longer ones get an error line, as on TCP;
        // a message past maxLineSkip is refused from its frame header (close 1009).
        maxMessageSize: maxLineSkip,
        maxBufferedAmount: bounds.hardLimit,
        closeTimeout: CLOSE_GRACE_MS,
      },
      label,
      logger: log,
    });
    if (accepted === null) return;
    await runChatWebSocketSession(accepted.ws, hub, {
      ...bounds,
      label,
      signal: ctx.signal,
      sockets,
      logger: log,
    });
  }

  const hostname = options.hostname ?? "127.0.0.1";
  let server: TcpServer;
  try {
    server = serveTcp(handleTcp, {
      hostname,
      port: options.port ?? 7002,
      tls: options.tls,
      reusePort: options.reusePort ?? false,
      maxConnections: maxClients,
      busyMessage: "*** error: the chat is full, try again later\n",
      gracePeriod: CLOSE_GRACE_MS * 2,
      signal: stop.signal,
      logger: log,
    });
  } catch (error) {
    throw new ChatListenError("tcp", error);
  }
  let web: TcpServer | undefined;
  if (options.httpPort !== undefined) {
    try {
      web = serveTcp(handleWeb, {
        hostname,
        port: options.httpPort,
        tls: options.tls,
        reusePort: options.reusePort ?? false,
        maxConnections: maxClients,
        // Full, said in HTTP: a browser shows the 503's reason instead of "invalid response".
        refuse: refuseWithServiceUnavailable({ reason: FULL, retryAfter }),
        gracePeriod: CLOSE_GRACE_MS * 2,
        signal: stop.signal,
        logger: log,
      });
    } catch (error) {
      stop.abort(); // the TCP listener is already bound: release it
      throw new ChatListenError("http", error);
    }
  }
  // One handler for both listeners (not one per TcpServer): one "shutting down" line, one stop.
  const removeSignalListeners = options.handleSignals
    ? onShutdownSignal(() => stop.abort(), { logger: log })
    : undefined;
  // With nobody connected no handler calls hub.close(); its timers must still stop.
  const finished = Promise.all([server.finished, web?.finished]).then(() => {
    hub.close(CHAT_SHUTDOWN_REASON);
    removeSignalListeners?.();
  });
  return {
    addr: server.addr,
    httpAddr: web?.addr,
    hub,
    finished,
    get queuedBytes() {
      let total = 0;
      for (const queue of queues) total += queue.bufferedBytes;
      for (const ws of sockets) total += ws.bufferedAmount;
      return total;
    },
    shutdown: () => {
      stop.abort();
      return finished;
    },
  };
}
