/**
 * # WebSocket server: echo and broadcast
 *
 * A WebSocket server (RFC 6455): `/echo` sends every message back, `/broadcast` sends it to
 * every other client, `GET /` is a page to try both. It holds the limits a public server needs:
 * message size checked from frame headers, a bounded send queue per client, Origin and Host
 * checks, heartbeat pings, and a Close frame with the right code for every protocol error.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/ws_server.ts
 * ```
 *
 * Try it: open http://127.0.0.1:8080/ in a browser, or run `deno task ws-client
 * ws://127.0.0.1:8080/echo --message hi`: it prints `hi`.
 *
 * Built on `Deno.listen` (`Deno.listenTls` with `--tls-cert`), wrapped by `serveTcp` in
 * lib/tcp/serve_tcp.ts; each request upgrades with `upgradeWebSocket` in
 * lib/websocket/websocket_upgrade.ts; `--workers` is lib/websocket/ws_worker.ts.
 *
 * @module
 */

import { listenOptions, parseCliOrExit, UsageError } from "../lib/cli/cli.ts";
import { DEFLATE_SERVER_OPTIONS, deflateOptionsFrom } from "../lib/cli/deflate_flags.ts";
import { readTlsFiles, TLS_SERVER_OPTIONS } from "../lib/cli/tls_files.ts";
import { Logger } from "../lib/cli/log.ts";
import { formatCount } from "../lib/cli/format_count.ts";
import { formatAddr } from "../lib/net/net_addr.ts";
import { explainListenError, ListenError } from "../lib/net/net_errors.ts";
import { startWsServer, type WsServer, type WsServerOptions } from "../lib/websocket/ws_server.ts";
import { startWsWorker, startWsWorkers, type WsWorkerData } from "../lib/websocket/ws_worker.ts";
import { resolveWorkerCount, type WorkerPool } from "../lib/net/worker_pool.ts";
import {
  isWorkerThread,
  type PoolWorkerInit,
  type PoolWorkerServer,
  runPoolWorker,
} from "../lib/net/run_pool_worker.ts";

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
      description: "Refuse clients beyond this many, with HTTP 503 and Retry-After",
    },
    "retry-after": {
      type: "integer",
      default: 5,
      min: 0,
      valueName: "SECONDS",
      description: "The Retry-After a refused client (503) is told",
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
    "allow-host": {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description: "Also serve requests whose Host names NAME (.NAME: subdomains too)",
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
    workers: {
      type: "string",
      default: "1",
      valueName: "N|auto",
      description: "Worker threads sharing the port (0 or auto: one per core); see below",
    },
    ...DEFLATE_SERVER_OPTIONS,
    ...TLS_SERVER_OPTIONS,
  },
  notes: [
    "--workers N: N Web Workers, each listening on the same port with reusePort (Linux only:",
    "elsewhere one server runs); needs --unstable-net and --allow-read=scripts,lib. /broadcast",
    "reaches clients on every worker; a crashed worker is restarted; Ctrl+C stops them all.",
    "Origin and Host checks (cross-site hijacking, DNS rebinding): other origins and names get",
    "403 unless listed with --allow-origin or --allow-host.",
    "Compression: permessage-deflate without context takeover, a broadcast compressed once.",
    "Try it: open http://127.0.0.1:8080/ or run",
    "  deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --message hi",
  ],
} as const;

/** Starts the server from command-line flags; resolves with the exit code once it has shut down. */
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

  let workers: number;
  try {
    workers = resolveWorkerCount(values.workers, { logger: log });
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }
  const serverOptions: WsServerOptions = {
    hostname: values.host,
    port: values.port,
    tls,
    maxMessageSize: values["max-message"],
    maxFragments: values["max-fragments"],
    maxBufferedAmount: values["max-buffered"],
    maxConnections: values["max-connections"],
    retryAfter: values["retry-after"],
    allowedHosts: values["allow-host"],
    allowHostFlag: "--allow-host",
    tlsAdvice: "this port speaks plain HTTP; for TLS start the server with --tls-cert",
    idleTimeout: values["idle-timeout"] * 1000,
    handshakeTimeout: values["handshake-timeout"] * 1000,
    protocols: values.protocol,
    perMessageDeflate: deflateOptionsFrom(values),
    allowedOrigins: values["allow-origin"],
    rootEndpoint: values.root === "broadcast" ? "/broadcast" : "/echo",
    broadcastToSender: values["broadcast-to-sender"],
  };
  if (workers > 1) {
    return await runWorkers(workers, { options: serverOptions, quiet: values.quiet }, log);
  }
  let server: WsServer;
  try {
    server = startWsServer({ ...serverOptions, handleSignals: true, logger: log });
  } catch (error) {
    console.error(`error: ${listenAdvice(error, (error as Error).message)}`);
    return 1;
  }
  console.log(`listening on ${tls ? "https" : "http"}://${formatAddr(server.addr)}/`);
  await server.finished;
  const { connections, messages } = server.stats;
  const served = `${formatCount(connections, "connection")}, ${formatCount(messages, "message")}`;
  log.info(`shut down: served ${served}`);
  return 0;
}

/** What each worker gets: the server's options, plus the log level. */
interface WorkerData extends WsWorkerData {
  quiet: boolean;
}

/** The worker side of --workers: a server whose log lines say which worker wrote them. */
function startWorker(init: PoolWorkerInit<WorkerData>): PoolWorkerServer {
  const write = (line: string) => console.error(`[w${init.index}] ${line}`);
  return startWsWorker(init, new Logger({ level: init.data.quiet ? "warn" : "info", write }));
}

/** `--workers N`: this same file runs in N workers; the main thread only watches them. */
async function runWorkers(count: number, data: WorkerData, log: Logger): Promise<number> {
  let pool: WorkerPool;
  try {
    pool = await startWsWorkers(import.meta.url, data, { count, logger: log });
  } catch (error) {
    console.error(`error: ${listenAdvice((error as Error).cause, (error as Error).message)}`);
    return 1;
  }
  console.log(`listening on ${data.options.tls ? "https" : "http"}://${formatAddr(pool.addr)}/`);
  log.info(`${count} workers share the port; /broadcast crosses them on a BroadcastChannel`);
  const totals = await pool.finished;
  const restarted = pool.restarts > 0 ? ` (${pool.restarts} restarted after a crash)` : "";
  const connections = formatCount(totals.connections ?? 0, "connection");
  const messages = formatCount(totals.messages ?? 0, "message");
  log.info(`shut down: ${count} workers${restarted} served ${connections}, ${messages}`);
  return 0;
}

/** A start error as advice: the lib's advice names no flag; ours does. */
function listenAdvice(error: unknown, message: string): string {
  if (!(error instanceof ListenError)) return message;
  const flags = { portFlag: "--port", hostFlag: "--host" };
  return explainListenError(error, error.hostname, error.port, flags);
}

if (import.meta.main) {
  // The same file is the worker module of --workers.
  if (isWorkerThread()) runPoolWorker(startWorker);
  else Deno.exit(await main());
}
