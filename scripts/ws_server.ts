/**
 * # WebSocket server: echo and broadcast
 *
 * A WebSocket server (RFC 6455) on our own TCP/TLS server and WebSocket lib, holding the limits
 * a public server needs: message size checked from frame headers, a bounded send queue per
 * client, an Origin check against cross-site WebSocket hijacking, idle timeouts with heartbeat
 * pings, and a Close frame with the right code for every protocol error.
 *
 * - `/echo`: every text or binary message comes back unchanged.
 * - `/broadcast`: every message goes to every other client; a client that stops reading is
 *   closed (1008) once its send queue is full, and the others are unaffected.
 * - `GET /`: a small page to try both from a browser.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/ws_server.ts
 * deno run --allow-net=127.0.0.1 --allow-read=tests/fixtures scripts/ws_server.ts \
 *   --tls-cert tests/fixtures/localhost.crt --tls-key tests/fixtures/localhost.key
 * ```
 *
 * Try it: open http://127.0.0.1:8080/ in a browser, or
 * `deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --message hi`
 * prints `hi`.
 *
 * Built on `Deno.listen` (`Deno.listenTls` with `--tls-cert`), wrapped by `serveTcp` in
 * lib/tcp/serve_tcp.ts; each request upgrades with `upgradeWebSocket` in
 * lib/websocket/websocket_upgrade.ts.
 *
 * @module
 */

import { ChunkReader } from "../lib/io/chunk_reader.ts";
import { listenOptions, parseCliOrExit, UsageError } from "../lib/cli/cli.ts";
import { readTlsFiles, TLS_SERVER_OPTIONS } from "../lib/cli/tls_files.ts";
import { HttpError } from "../lib/http/http_error.ts";
import { readRequestHead } from "../lib/http/http_request_head.ts";
import { encodeHttpErrorResponse, encodeHttpResponse } from "../lib/http/http_response.ts";
import { Logger } from "../lib/cli/log.ts";
import { formatAddr } from "../lib/net/net_addr.ts";
import { type ConnectionContext, serveTcp, type TcpServer } from "../lib/tcp/serve_tcp.ts";
import { CLOSE_CODE } from "../lib/websocket/websocket_close.ts";
import type { WebSocketConnection } from "../lib/websocket/websocket_connection.ts";
import { encodeFrame, OPCODE } from "../lib/websocket/websocket_frame.ts";
import { createOriginPolicy, isWebSocketUpgrade } from "../lib/websocket/websocket_handshake.ts";
import { upgradeWebSocket } from "../lib/websocket/websocket_upgrade.ts";
import { writeAll } from "../lib/io/write_all.ts";

/** Options for {@linkcode startWsServer}. */
export interface WsServerOptions {
  /** Address to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Serve `wss://` with this PEM certificate and key. */
  tls?: { cert: string; key: string };
  /** Largest incoming message, in bytes. */
  maxMessageSize: number;
  /** Most fragments per incoming message. */
  maxFragments: number;
  /** Largest send queue per client, in bytes. */
  maxBufferedAmount: number;
  /** Most clients at once. */
  maxConnections: number;
  /** Close clients silent this long (ms; pings go out at half of it); 0 disables. */
  idleTimeout: number;
  /** Time allowed for the HTTP request head, in ms. */
  handshakeTimeout: number;
  /** Subprotocols offered, in order of preference. */
  protocols: string[];
  /** Origins accepted besides the server's own; `*` accepts any. */
  allowedOrigins: string[];
  /**
   * Where a WebSocket upgrade at `/` goes, for tools that cannot choose a
   * path (a plain `GET /` still gets the page).
   */
  rootEndpoint?: "/echo" | "/broadcast";
  /** Send each `/broadcast` message back to its sender too (chat rooms and load tools want that). */
  broadcastToSender?: boolean;
  /** Shut down on SIGINT/SIGTERM. */
  handleSignals: boolean;
  /** Where connections and refusals are logged. */
  logger: Logger;
}

const ENDPOINTS = ["/echo", "/broadcast"] as const;

/**
 * Starts the server.
 *
 * @param options Address, TLS and limits.
 * @returns The running TCP server; `server.shutdown()` sends Close 1001 to every client.
 */
export function startWsServer(options: WsServerOptions): TcpServer {
  const log = options.logger;
  const broadcastClients = new Set<WebSocketConnection>();
  const originPolicy = createOriginPolicy(options.allowedOrigins);

  async function handle(conn: Deno.Conn, ctx: ConnectionContext): Promise<void> {
    const peer = `#${ctx.id} ${formatAddr(ctx.remoteAddr)}`;
    const reader = new ChunkReader(conn);
    let ws: WebSocketConnection;
    let path: string;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.handshakeTimeout);
    try {
      const request = await readRequestHead(reader, {
        signal: AbortSignal.any([deadline.signal, ctx.signal]),
      });
      if (request === null) return;
      const { head } = request;
      if (!URL.canParse(head.target, "http://host")) {
        throw new HttpError(400, `Malformed request target: ${head.target.slice(0, 80)}`);
      }
      path = new URL(head.target, "http://host").pathname;
      if (path === "/" && isWebSocketUpgrade(head)) path = options.rootEndpoint ?? "/echo";
      if (!isWebSocketUpgrade(head)) {
        if (path === "/" && head.method === "GET") {
          await writeAll(conn, encodeHttpResponse(200, PAGE_RESPONSE));
          return;
        }
        throw ENDPOINTS.includes(path as typeof ENDPOINTS[number])
          ? new HttpError(426, `${path} is a WebSocket endpoint: connect with ws://`, {
            Upgrade: "websocket",
          })
          : new HttpError(404, `Nothing at ${path}: try / , /echo or /broadcast`);
      }
      if (!ENDPOINTS.includes(path as typeof ENDPOINTS[number])) {
        throw new HttpError(404, `No WebSocket endpoint at ${path}: try /echo or /broadcast`);
      }
      ws = await upgradeWebSocket(conn, reader, request, {
        protocols: options.protocols,
        originPolicy,
        maxMessageSize: options.maxMessageSize,
        maxFragments: options.maxFragments,
        maxBufferedAmount: options.maxBufferedAmount,
        idleTimeout: options.idleTimeout,
        pingInterval: options.idleTimeout / 2,
      });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      log.info(`${peer} refused with ${error.status}: ${error.message}`);
      await writeAll(conn, encodeHttpErrorResponse(error)).catch(() => {});
      return;
    } finally {
      clearTimeout(timer);
    }

    log.info(`${peer} opened ${path}${ws.protocol ? ` (${ws.protocol})` : ""}`);
    // Ctrl+C: every client gets Close 1001 ("going away") and a chance to answer.
    const onShutdown = () => void ws.close(CLOSE_CODE.GOING_AWAY, "server shutting down");
    ctx.signal.addEventListener("abort", onShutdown, { once: true });
    if (ctx.signal.aborted) onShutdown();
    try {
      if (path === "/echo") {
        // receive() in a loop rather than `for await`: no async generator per message.
        for (let message; (message = await ws.receive()) !== null;) ws.send(message.data);
      } else {
        broadcastClients.add(ws);
        for (let message; (message = await ws.receive()) !== null;) {
          // Encoded once, the same frame bytes are queued for every other client.
          const opcode = message.type === "text" ? OPCODE.TEXT : OPCODE.BINARY;
          const frame = encodeFrame(opcode, message.data);
          for (const other of broadcastClients) {
            if (other !== ws || options.broadcastToSender) other.sendFrame(frame);
          }
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

  return serveTcp(handle, {
    hostname: options.hostname,
    port: options.port,
    tls: options.tls,
    maxConnections: options.maxConnections,
    handleSignals: options.handleSignals,
    logger: log,
  });
}

const CLI = {
  name: "ws_server.ts",
  summary: "WebSocket echo (/echo) and broadcast (/broadcast) server, with a test page at /.",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/ws_server.ts [options]",
    "deno run --allow-net=127.0.0.1 --allow-read=tests/fixtures scripts/ws_server.ts \\",
    "  --tls-cert tests/fixtures/localhost.crt --tls-key tests/fixtures/localhost.key",
  ],
  options: {
    ...listenOptions(8080),
    "max-message": {
      type: "integer",
      default: 1_048_576,
      min: 0,
      valueName: "BYTES",
      description: "Largest message accepted; larger ones are refused with close code 1009",
    },
    "max-fragments": {
      type: "integer",
      default: 1024,
      min: 1,
      description: "Most frames one message may be split into; more are refused with 1009",
    },
    "max-buffered": {
      type: "integer",
      default: 4_194_304,
      min: 1,
      valueName: "BYTES",
      description: "Send queue per client; a client that lets it fill is closed with 1008",
    },
    "max-connections": {
      type: "integer",
      default: 10_000,
      min: 1,
      description: "Refuse clients beyond this many",
    },
    "idle-timeout": {
      type: "number",
      default: 60,
      min: 0,
      valueName: "SECONDS",
      description: "Close clients silent this long, pinging them at half of it (0 = never)",
    },
    "handshake-timeout": {
      type: "number",
      default: 10,
      min: 0.001,
      valueName: "SECONDS",
      description: "Time allowed to send the HTTP request head",
    },
    protocol: {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description: "A subprotocol to offer, in order of preference",
    },
    "allow-origin": {
      type: "string",
      multiple: true,
      valueName: "ORIGIN",
      description: "Also accept browsers from this origin, e.g. https://app.example ('*' = any)",
    },
    "broadcast-to-sender": {
      type: "boolean",
      description: "/broadcast also sends each message back to its sender",
    },
    root: {
      type: "string",
      default: "echo",
      valueName: "echo|broadcast",
      description: "What a WebSocket upgrade at / gets, for tools that cannot set a path",
    },
    ...TLS_SERVER_OPTIONS,
  },
  notes: [
    "Origin policy: requests without Origin (non-browser clients) and from the server's own",
    "host:port are accepted; other origins get 403 unless listed with --allow-origin.",
    "Try it: open http://127.0.0.1:8080/ or run",
    "  deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --message hi",
  ],
} as const;

/**
 * Starts the server from command-line flags and waits until it has shut down.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  if (values.root !== "echo" && values.root !== "broadcast") {
    console.error(`error: invalid value for --root: '${values.root}' (echo or broadcast)`);
    return 2;
  }
  const log = new Logger({ level: values.quiet ? "warn" : "info" });
  let tls;
  try {
    tls = await readTlsFiles(values["tls-cert"], values["tls-key"]);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }

  let server: TcpServer;
  try {
    server = startWsServer({
      hostname: values.host,
      port: values.port,
      tls,
      maxMessageSize: values["max-message"],
      maxFragments: values["max-fragments"],
      maxBufferedAmount: values["max-buffered"],
      maxConnections: values["max-connections"],
      idleTimeout: values["idle-timeout"] * 1000,
      handshakeTimeout: values["handshake-timeout"] * 1000,
      protocols: values.protocol,
      allowedOrigins: values["allow-origin"],
      rootEndpoint: values.root === "broadcast" ? "/broadcast" : "/echo",
      broadcastToSender: values["broadcast-to-sender"],
      handleSignals: true,
      logger: log,
    });
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  console.log(`listening on ${tls ? "https" : "http"}://${formatAddr(server.addr)}`);
  await server.finished;
  log.info("shut down");
  return 0;
}

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>WebSocket echo and broadcast</title>
<style>body{font:16px system-ui;max-width:40rem;margin:2rem auto}#log{white-space:pre-wrap;
border:1px solid #ccc;padding:.5rem;min-height:10rem}</style>
<h1>WebSocket echo and broadcast</h1>
<p><label><input type="radio" name="path" value="/echo" checked> /echo</label>
<label><input type="radio" name="path" value="/broadcast"> /broadcast</label>
<button id="connect">Connect</button></p>
<form id="form"><input id="text" size="40" placeholder="a message" disabled>
<button disabled>Send</button></form>
<div id="log"></div>
<script>
const log = (line) => document.getElementById("log").append(line + "\\n");
const form = document.getElementById("form");
let ws;
document.getElementById("connect").onclick = () => {
  ws?.close();
  const path = document.querySelector("input[name=path]:checked").value;
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
  ws.onopen = () => { log("open " + path); for (const e of form.elements) e.disabled = false; };
  ws.onmessage = (event) => log("< " + event.data);
  ws.onclose = (event) => log("closed " + event.code + " " + event.reason);
};
form.onsubmit = (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  ws.send(text.value);
  log("> " + text.value);
  text.value = "";
};
</script>
</html>
`;

const PAGE_RESPONSE = {
  // One request per connection: this server speaks just enough HTTP to upgrade.
  headers: {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    Connection: "close",
  },
  body: PAGE,
};

if (import.meta.main) Deno.exit(await main());
