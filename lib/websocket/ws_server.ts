/**
 * A WebSocket echo and broadcast server on `serveTcp` and {@linkcode acceptHttpUpgrade}:
 * `/echo` sends every message back, `/broadcast` sends it to every other client, and `GET /`
 * serves a small page to try both from a browser.
 *
 * @module
 */

import { acceptHttpUpgrade } from "./accept_http_upgrade.ts";
import { BroadcastFrames } from "./broadcast_frames.ts";
import { CLOSE_CODE } from "./websocket_close.ts";
import type { WebSocketConnection } from "./websocket_connection.ts";
import type { PerMessageDeflateOptions } from "./websocket_deflate.ts";
import { createOriginPolicy } from "./websocket_handshake.ts";
import { WS_SERVER_PAGES } from "./ws_server_page.ts";
import { refuseWithServiceUnavailable } from "../http/service_unavailable.ts";
import { type ServerLogger, STDERR_LOGGER } from "../net/logger.ts";
import { formatAddr } from "../net/net_addr.ts";
import {
  type ConnectionContext,
  serveTcp,
  type TcpServer,
  type TlsCertifiedKey,
} from "../tcp/serve_tcp.ts";

/** The endpoints of {@linkcode startWsServer}. */
export type WsServerEndpoint = "/echo" | "/broadcast";

/** Options for {@linkcode startWsServer}. */
export interface WsServerOptions {
  /**
   * Address to bind.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port to bind; 0 picks a free one.
   *
   * @default {8080}
   */
  port?: number;
  /**
   * Serve `wss://` with this PEM certificate and key.
   *
   * @default {undefined} (plain `ws://`)
   */
  tls?: TlsCertifiedKey;
  /**
   * Largest incoming message, in bytes; larger ones are refused with 1009.
   *
   * @default {1048576}
   */
  maxMessageSize?: number;
  /**
   * Most fragments per incoming message.
   *
   * @default {1024}
   */
  maxFragments?: number;
  /**
   * Largest send queue per client, in bytes; a client that lets it fill is closed with 1008.
   *
   * @default {4194304}
   */
  maxBufferedAmount?: number;
  /**
   * Most clients at once; the next ones get `503 Service Unavailable` with `Retry-After`.
   *
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * Seconds a client refused with 503 is told to wait (`Retry-After`).
   *
   * @default {5}
   */
  retryAfter?: number;
  /**
   * Names the `Host` header may give besides the server's own address (and `localhost` when
   * bound to loopback); other names get 403, against DNS rebinding. A leading dot allows
   * subdomains too.
   *
   * @default {[]}
   */
  allowedHosts?: string[];
  /**
   * The flag named in the 403 for a refused `Host`.
   *
   * @default {"--allow-host"}
   */
  allowHostFlag?: string;
  /**
   * Advice in the 400 sent at once to a client that starts a TLS handshake on a plain port.
   *
   * @default {"this port speaks plain HTTP"}
   */
  tlsAdvice?: string;
  /**
   * Close clients silent this long (ms; pings go out at half of it); 0 disables.
   *
   * @default {60000}
   */
  idleTimeout?: number;
  /**
   * Time allowed for the HTTP request head, in ms.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * permessage-deflate (RFC 7692): its threshold, level and window limits, or `false` to turn it
   * off. Negotiated with every client that offers it (browsers do), with no context takeover
   * either way, so a connection holds no zlib state between messages.
   *
   * @default {{}} (on, with the defaults of `PerMessageDeflateOptions`)
   */
  perMessageDeflate?: PerMessageDeflateOptions | false;
  /**
   * Subprotocols offered, in order of preference.
   *
   * @default {[]}
   */
  protocols?: string[];
  /**
   * Origins accepted besides the server's own; `*` accepts any.
   *
   * @default {[]}
   */
  allowedOrigins?: string[];
  /**
   * Where a WebSocket upgrade at `/` goes, for tools that cannot choose a path (a plain `GET /`
   * still gets the page).
   *
   * @default {"/echo"}
   */
  rootEndpoint?: WsServerEndpoint;
  /**
   * Send each `/broadcast` message back to its sender too (chat rooms and load tools want that).
   *
   * @default {false}
   */
  broadcastToSender?: boolean;
  /**
   * The name of a `BroadcastChannel` joining servers in other worker threads of this process
   * (`--workers`): each `/broadcast` message is also posted there, and what the others post
   * reaches this server's `/broadcast` clients. Costs one copy of the message per worker.
   *
   * @default {undefined} (this server's clients only)
   */
  broadcastChannel?: string;
  /**
   * Let other listeners bind the same port (Linux spreads connections); needs `--unstable-net`.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Shut down on SIGINT/SIGTERM.
   *
   * @default {false}
   */
  handleSignals?: boolean;
  /**
   * Where connections and refusals are logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** Counts kept by a running {@linkcode WsServer}. */
export interface WsServerStats {
  /** TCP connections accepted (page requests and refusals included). */
  connections: number;
  /** WebSocket connections opened. */
  websockets: number;
  /** Messages received from clients. */
  messages: number;
}

/** A running WebSocket server. */
export interface WsServer extends AsyncDisposable {
  /** The bound address (read the port here after `port: 0`). */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has shut down and every connection is closed. */
  readonly finished: Promise<void>;
  /** Connections and messages so far. */
  readonly stats: Readonly<WsServerStats>;
  /** Stops accepting and sends Close 1001 to every client; resolves like `finished`. */
  shutdown(): Promise<void>;
}

const ENDPOINTS: readonly WsServerEndpoint[] = ["/echo", "/broadcast"];

/**
 * Starts the echo and broadcast server.
 *
 * @param options Address, TLS, limits and logging.
 * @returns The running server; `shutdown()` sends Close 1001 to every client.
 * @throws {Error} If the address cannot be bound, as {@linkcode serveTcp} does.
 *
 * @example An echo round trip with the runtime's own WebSocket client
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { startWsServer } from "./ws_server.ts";
 *
 * await using server = startWsServer({ port: 0 });
 * const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/echo`);
 * await new Promise((resolve) => ws.onopen = resolve);
 * ws.send("hi");
 * const echoed = await new Promise((resolve) => ws.onmessage = (event) => resolve(event.data));
 * assert.equal(echoed, "hi");
 * ws.close();
 * ```
 */
export function startWsServer(options: WsServerOptions = {}): WsServer {
  const log = options.logger ?? STDERR_LOGGER;
  const broadcastClients = new Set<WebSocketConnection>();
  const originPolicy = createOriginPolicy(options.allowedOrigins ?? []);
  const idleTimeout = options.idleTimeout ?? 60_000;
  const stats: WsServerStats = { connections: 0, websockets: 0, messages: 0 };
  const channel = options.broadcastChannel === undefined
    ? undefined
    : new BroadcastChannel(options.broadcastChannel);

  /** Queues one message's frame for every local /broadcast client except `sender`. */
  function sendToLocal(frames: BroadcastFrames, sender: WebSocketConnection | undefined): void {
    for (const other of broadcastClients) {
      if (other !== sender || options.broadcastToSender) {
        other.sendFrame(frames.frameFor(other.perMessageDeflate));
      }
    }
  }
  if (channel !== undefined) {
    // The other workers' /broadcast messages: our clients get them like their own.
    channel.onmessage = (event: MessageEvent<{ text: boolean; data: string | Uint8Array }>) => {
      // A text message arrives as a string, a binary one as bytes: the opcode follows the type.
      sendToLocal(new BroadcastFrames(event.data.data), undefined);
    };
  }

  async function handle(conn: Deno.Conn, ctx: ConnectionContext): Promise<void> {
    stats.connections++;
    const peer = `#${ctx.id} ${formatAddr(ctx.remoteAddr)}`;
    const accepted = await acceptHttpUpgrade(conn, {
      // The test page and its script and style, with a Content-Security-Policy.
      pages: WS_SERVER_PAGES,
      endpoints: ENDPOINTS,
      rootEndpoint: options.rootEndpoint ?? "/echo",
      headTimeout: options.handshakeTimeout ?? 10_000,
      signal: ctx.signal,
      // DNS rebinding: the Host must name this server; Origin alone is the attacker's to choose.
      hostCheck: {
        bound: server.addr,
        allowedHosts: options.allowedHosts ?? [],
        flag: options.allowHostFlag,
      },
      tlsAdvice: options.tlsAdvice,
      upgrade: {
        protocols: options.protocols ?? [],
        originPolicy,
        perMessageDeflate: options.perMessageDeflate ?? {},
        maxMessageSize: options.maxMessageSize ?? 1_048_576,
        maxFragments: options.maxFragments ?? 1024,
        maxBufferedAmount: options.maxBufferedAmount ?? 4_194_304,
        idleTimeout,
        pingInterval: idleTimeout / 2,
      },
      label: peer,
      logger: log,
    });
    if (accepted === null) return;
    const { path, ws } = accepted;
    stats.websockets++;

    const notes = [ws.protocol, ws.perMessageDeflate && "compressed"].filter(Boolean);
    log.info(`${peer} opened ${path}${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`);
    // Ctrl+C: every client gets Close 1001 ("going away") and a chance to answer.
    const onShutdown = () => void ws.close(CLOSE_CODE.GOING_AWAY, "server shutting down");
    ctx.signal.addEventListener("abort", onShutdown, { once: true });
    if (ctx.signal.aborted) onShutdown();
    try {
      if (path === "/echo") {
        // receive() in a loop rather than `for await`: no async generator per message.
        for (let message; (message = await ws.receive()) !== null;) {
          stats.messages++;
          ws.send(message.data);
        }
      } else {
        broadcastClients.add(ws);
        for (let message; (message = await ws.receive()) !== null;) {
          stats.messages++;
          // Framed once (and compressed once for the clients that negotiated compression),
          // the same frame bytes are queued for every other client.
          sendToLocal(new BroadcastFrames(message.data), ws);
          channel?.postMessage({ text: message.type === "text", data: message.data });
        }
      }
    } finally {
      broadcastClients.delete(ws);
      ctx.signal.removeEventListener("abort", onShutdown);
    }
    const { code, reason, wasClean } = await ws.closed;
    log.info(
      `${peer} closed ${path}: ${code}${reason ? ` ${reason}` : ""}${wasClean ? "" : " (unclean)"}`,
    );
  }

  const server: TcpServer = serveTcp(handle, {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8080,
    tls: options.tls,
    maxConnections: options.maxConnections ?? 10_000,
    reusePort: options.reusePort ?? false,
    // Busy, said in HTTP: browsers and WebSocket libraries show a 503, not a broken response.
    refuse: refuseWithServiceUnavailable({ retryAfter: options.retryAfter }),
    handleSignals: options.handleSignals ?? false,
    logger: log,
  });
  const finished = server.finished.finally(() => channel?.close());
  return {
    addr: server.addr,
    finished,
    stats,
    shutdown: () => server.shutdown().then(() => finished),
    [Symbol.asyncDispose]: () => server.shutdown().then(() => finished),
  };
}
