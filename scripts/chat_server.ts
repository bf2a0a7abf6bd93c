/**
 * # Chat server
 *
 * A multi-user chat room over plain TCP lines, usable from `nc` or `telnet`,
 * and from a web page on a second port: nicknames, rooms, commands, history,
 * and limits that keep one hostile or stuck client from hurting anyone else.
 * The rooms, nicks and commands live in `lib/chat/chat_hub.ts` (one member's state and
 * commands in `lib/chat/_session.ts`), the two transports in
 * `lib/chat/chat_tcp_session.ts` and `lib/chat/chat_websocket_session.ts`, and
 * `startChatServer` (`lib/chat/chat_server.ts`) joins both to the same hub, so a browser
 * user and an `nc` user talk in the same room with the same commands.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/chat_server.ts
 * ```
 *
 * It prints `listening on 127.0.0.1:7002` (TCP) and
 * `listening on http://127.0.0.1:8002/` (the page; its WebSocket is at `/chat`).
 *
 * TLS, compression, several servers through Redis (`--redis`) and several cores
 * (`--workers`) are in `--help` and in the README's chat sections, with their run commands.
 *
 * Try it, in two terminals (`nc 127.0.0.1 7002`), or open http://127.0.0.1:8002/:
 *
 * ```text
 * $ nc 127.0.0.1 7002
 * *** Welcome to the chat. Pick a nick: type a name, or /nick NAME
 * ...
 * alice
 * *** You are alice. /help lists the commands
 * [12:30] *** alice joined #lobby (1 here)
 * [12:31] <bob> hi alice          (what bob typed in the other terminal)
 * ```
 *
 * Each client's output goes through its own bounded queue: a client that
 * stops reading is disconnected once its queue passes 1 MiB (or stays above
 * 256 KiB for 10 s) and nobody else notices. Browser users get the same
 * queue bounds, flood control and line limit; a WebSocket Origin check
 * refuses (403) pages from other sites.
 *
 * Built on `Deno.listen` (`Deno.listenTls` with `--tls-cert`), wrapped by `serveTcp` in
 * lib/tcp/serve_tcp.ts; `startChatServer` in lib/chat/chat_server.ts opens both ports.
 *
 * @module
 */

import {
  ChatListenError,
  type ChatServer,
  type ChatServerOptions,
  startChatServer,
} from "../lib/chat/chat_server.ts";
import {
  type ChatRedisSettings,
  type ChatWorkerData,
  startChatWorker,
  startChatWorkers,
} from "../lib/chat/chat_workers.ts";
import { RedisRelay } from "../lib/chat/redis_relay.ts";
import { listenOptions, parseCliOrExit, UsageError } from "../lib/cli/cli.ts";
import { DEFLATE_SERVER_OPTIONS, deflateOptionsFrom } from "../lib/cli/deflate_flags.ts";
import { formatCount } from "../lib/cli/format_count.ts";
import { readTlsFiles, TLS_SERVER_OPTIONS } from "../lib/cli/tls_files.ts";
import { Logger } from "../lib/cli/log.ts";
import { resolveWorkerCount, type WorkerPool } from "../lib/net/worker_pool.ts";
import {
  isWorkerThread,
  type PoolWorkerInit,
  type PoolWorkerServer,
  runPoolWorker,
} from "../lib/net/run_pool_worker.ts";
import { formatAddr } from "../lib/net/net_addr.ts";
import { explainListenError, ListenError } from "../lib/net/net_errors.ts";
import { parseRedisUrl, type RedisAddress } from "../lib/redis/redis_address.ts";

const CLI = {
  name: "chat_server.ts",
  summary: "A multi-user chat with nicks, rooms and limits: nc or chat_client.ts on --port, " +
    "a web page on --http-port, all in the same rooms.",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/chat_server.ts [options]",
    "deno run --allow-net=127.0.0.1 --allow-read=tests/fixtures scripts/chat_server.ts \\",
    "  --tls-cert tests/fixtures/localhost.crt --tls-key tests/fixtures/localhost.key",
  ],
  options: {
    host: listenOptions(7002).host,
    port: { ...listenOptions(7002).port, description: "Port for nc/telnet (0: any free)" },
    "http-port": {
      type: "integer",
      default: 8002,
      min: 0,
      max: 65535,
      description: "Port for the web page (/) and its WebSocket (/chat) (0: any free)",
    },
    "allow-origin": {
      type: "string",
      multiple: true,
      valueName: "ORIGIN",
      description: "Also let pages from this origin join, e.g. https://app.example ('*' = any)",
    },
    "allow-host": {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description: "Also serve web requests whose Host names NAME (.NAME: subdomains too)",
    },
    "max-clients": {
      type: "integer",
      default: 10_000,
      min: 1,
      description: "Clients at once, TCP and web together (web: HTTP 503 beyond it)",
    },
    "retry-after": {
      type: "integer",
      default: 5,
      min: 0,
      valueName: "SECONDS",
      description: "The Retry-After a refused web client (503) is told",
    },
    history: { type: "integer", default: 20, min: 0, description: "Messages replayed on join" },
    "max-nick": { type: "integer", default: 20, min: 1, description: "Longest nick" },
    "max-line": {
      type: "integer",
      default: 4096,
      min: 16,
      valueName: "BYTES",
      description: "Longest line relayed (longer: error line)",
    },
    "max-line-skip": {
      type: "integer",
      default: 65_536,
      min: 16,
      valueName: "BYTES",
      description: "Unterminated line (TCP) or message (web) that disconnects",
    },
    "flood-burst": { type: "integer", default: 20, min: 1, description: "Lines in a burst" },
    "flood-rate": { type: "number", default: 10, min: 0.01, description: "Lines per second" },
    "flood-kick": {
      type: "integer",
      default: 40,
      min: 1,
      description: "Refused lines before a flooder is disconnected",
    },
    "queue-hard": {
      type: "integer",
      default: 1_048_576,
      min: 1024,
      valueName: "BYTES",
      description: "Outbound queue bytes that disconnect at once",
    },
    "queue-soft": {
      type: "integer",
      default: 262_144,
      min: 1024,
      valueName: "BYTES",
      description: "Outbound queue bytes that disconnect if held --queue-soft-seconds",
    },
    "queue-soft-seconds": {
      type: "number",
      default: 10,
      min: 0.001,
      valueName: "SECONDS",
      description: "See above",
    },
    "registration-timeout": {
      type: "number",
      default: 60,
      min: 0,
      valueName: "SECONDS",
      description: "Time to pick a nick (0: no limit)",
    },
    "idle-timeout": {
      type: "number",
      default: 0,
      min: 0,
      valueName: "SECONDS",
      description: "Time without input before disconnect (0: off)",
    },
    redis: {
      type: "string",
      valueName: "URL",
      description:
        "Share rooms with other servers through Redis: redis://HOST:PORT or unix:///PATH",
    },
    "redis-optional": {
      type: "boolean",
      description: "Start alone if Redis is down, and share rooms once it answers",
    },
    workers: {
      type: "string",
      default: "1",
      valueName: "N|auto",
      description: "Worker threads sharing both ports (0 or auto: one per core); see below",
    },
    "redis-ttl": {
      type: "number",
      default: 30,
      min: 0.1,
      valueName: "SECONDS",
      description: "How long a crashed server's nicks stay taken (refreshed every third of it)",
    },
    ...DEFLATE_SERVER_OPTIONS,
    ...TLS_SERVER_OPTIONS,
  },
  notes: [
    "Redis: every server publishes its rooms' lines and relays the others'; nicks are unique",
    "across servers, /who, /rooms and /msg span them, history is a capped list in Redis.",
    "Pub/sub is at-most-once: lines said while Redis is unreachable stay on their server.",
    "A Unix socket needs --allow-net=unix:/PATH --allow-read=/PATH --allow-write=/PATH.",
    "--workers N: N Web Workers, each listening on both ports with reusePort (Linux only:",
    "elsewhere one server runs); needs --unstable-net and --allow-read=scripts,lib. Rooms,",
    "nicks and history span workers (the main thread owns them; with --redis each worker is",
    "one more Redis server). A crashed worker is restarted; Ctrl+C stops them all.",
    "Browsers: the WebSocket accepts the chat's own page (same host:port) and clients without",
    "an Origin header; pages from other origins get 403 unless listed with --allow-origin.",
    "Host check (DNS rebinding): web requests must name this server in Host (its address, or",
    "localhost when bound to loopback); other names get 403 unless listed with --allow-host.",
    "Telnet works on --port (negotiation is refused, Ctrl+C is answered); a browser pointed",
    "at --port gets an HTTP 400 naming the web page's URL.",
    "TLS: --tls-cert/--tls-key serve both ports over TLS (tls:// and https://, wss://); with the",
    "test certificate (deno task chat-server-tls), join with",
    "  openssl s_client -quiet -connect 127.0.0.1:7002 -CAfile tests/fixtures/ca.crt",
    "  ncat --ssl --ssl-trustfile tests/fixtures/ca.crt localhost 7002",
    "  socat - OPENSSL:127.0.0.1:7002,cafile=tests/fixtures/ca.crt",
    "  chat_client.ts --tls --ca tests/fixtures/ca.crt (deno task chat-client-tls)",
    "Compression: the web side's WebSocket agrees permessage-deflate with browsers (no context",
    "takeover: no zlib memory between messages); --no-deflate turns it off.",
    "Try it: nc 127.0.0.1 7002, and open http://127.0.0.1:8002/",
  ],
} as const;

/**
 * Parses flags, starts the server, and waits until Ctrl+C has shut it down.
 *
 * @param args Command-line arguments.
 * @returns The exit code: 0 after a clean shutdown, 1 if a port cannot be bound, 2 for bad usage.
 */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  if (values["queue-soft"] > values["queue-hard"]) {
    console.error("error: --queue-soft must not exceed --queue-hard\nRun with --help for usage.");
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
  let redisAddress: RedisAddress | undefined;
  if (values.redis !== undefined) {
    try {
      redisAddress = parseRedisUrl(values.redis);
    } catch (error) {
      console.error(`error: --redis: ${(error as Error).message}\nRun with --help for usage.`);
      return 2;
    }
  }
  let workers: number;
  try {
    workers = resolveWorkerCount(values.workers, { logger: log });
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }
  const serverOptions: ChatServerOptions = {
    hostname: values.host,
    port: values.port,
    httpPort: values["http-port"],
    tls,
    perMessageDeflate: deflateOptionsFrom(values),
    allowedOrigins: values["allow-origin"],
    maxClients: values["max-clients"],
    retryAfter: values["retry-after"],
    allowedHosts: values["allow-host"],
    allowHostFlag: "--allow-host",
    historySize: values.history,
    maxNickLength: values["max-nick"],
    maxLineBytes: values["max-line"],
    maxLineSkip: values["max-line-skip"],
    floodBurst: values["flood-burst"],
    floodRate: values["flood-rate"],
    floodDisconnectAfter: values["flood-kick"],
    queueHardLimit: values["queue-hard"],
    queueSoftLimit: values["queue-soft"],
    queueSoftTimeout: Math.round(values["queue-soft-seconds"] * 1000),
    registrationTimeout: Math.round(values["registration-timeout"] * 1000),
    idleTimeout: Math.round(values["idle-timeout"] * 1000),
  };
  const redis: ChatRedisSettings | undefined = redisAddress === undefined ? undefined : {
    address: redisAddress,
    historySize: values.history,
    presenceTtl: Math.round(values["redis-ttl"] * 1000),
    optional: values["redis-optional"],
  };
  if (workers > 1) {
    return await runWorkers(workers, { options: serverOptions, redis, quiet: values.quiet }, log);
  }

  let relay: RedisRelay | undefined;
  if (redis !== undefined) {
    try {
      relay = await RedisRelay.connect(redis.address, { ...redis, logger: log });
    } catch (error) {
      console.error(`error: ${(error as Error).message}\n${REDIS_ADVICE}`);
      return 1;
    }
  }

  let server: ChatServer;
  try {
    server = startChatServer({
      ...serverOptions,
      relay,
      handleSignals: true,
      logger: log,
    });
  } catch (error) {
    await relay?.close();
    if (!(error instanceof ChatListenError)) throw error;
    const portFlag = error.listener === "http" ? "--http-port" : "--port";
    console.error(`error: ${startAdvice(error.cause, portFlag, error.message)}`);
    return 1;
  }
  printListening(server.addr, server.httpAddr, tls !== undefined);
  if (relay !== undefined) {
    log.info(`sharing rooms through Redis at ${relay.url} as server ${relay.id}`);
  }
  await server.finished;
  // After the hub said goodbye to everyone, so their nicks are released in Redis too.
  await relay?.close();
  const { connectionCount, messageCount } = server.hub;
  log.info(
    `shut down: served ${formatCount(connectionCount, "connection")}, ${
      formatCount(messageCount, "message")
    }`,
  );
  return 0;
}

/**
 * A start error as advice: the lib's advice names no flag; ours names the flag of the port
 * that failed.
 */
function startAdvice(cause: unknown, portFlag: string, message: string): string {
  return cause instanceof ListenError
    ? explainListenError(cause, cause.hostname, cause.port, { portFlag, hostFlag: "--host" })
    : message;
}

/** The stable `listening on` lines: the nc/telnet port, then the web page. */
function printListening(addr: Deno.NetAddr, http: Deno.NetAddr | undefined, tls: boolean): void {
  console.log(`listening on ${tls ? "tls://" : ""}${formatAddr(addr)}`);
  if (http !== undefined) {
    console.log(`listening on ${tls ? "https" : "http"}://${formatAddr(http)}/`);
  }
}

/** What to do when Redis cannot be reached at start. */
const REDIS_ADVICE =
  "Start redis-server first, or pass --redis-optional to chat on this server alone.";

/** What each worker gets: the server's options and Redis, plus the log level. */
interface WorkerData extends ChatWorkerData {
  quiet: boolean;
}

/** The worker side of --workers: a chat server whose log lines say which worker wrote them. */
function startWorker(init: PoolWorkerInit<WorkerData>): Promise<PoolWorkerServer> {
  const log = new Logger({
    level: init.data.quiet ? "warn" : "info",
    write: (line) => console.error(`[w${init.index}] ${line}`),
  });
  return startChatWorker(init, log);
}

/** `--workers N`: this same file runs in N workers; the main thread owns the shared rooms. */
async function runWorkers(count: number, data: WorkerData, log: Logger): Promise<number> {
  let pool: WorkerPool;
  try {
    pool = await startChatWorkers(import.meta.url, data, { count, logger: log });
  } catch (error) {
    const cause = (error as Error).cause;
    const portFlag = cause instanceof ListenError && cause.port === data.options.httpPort
      ? "--http-port"
      : "--port";
    console.error(`error: ${startAdvice(cause, portFlag, (error as Error).message)}`);
    if (/Redis/.test((error as Error).message)) console.error(REDIS_ADVICE);
    return 1;
  }
  const http = pool.ports.http === undefined ? undefined : { ...pool.addr, port: pool.ports.http };
  printListening(pool.addr, http, data.options.tls !== undefined);
  log.info(
    `${count} workers share the ports; ${
      data.redis ? "each is a server of the Redis chat" : "the main thread owns nicks and rooms"
    }`,
  );
  const totals = await pool.finished;
  const restarted = pool.restarts > 0 ? ` (${pool.restarts} restarted after a crash)` : "";
  log.info(
    `shut down: ${count} workers${restarted} served ${
      formatCount(totals.connections ?? 0, "connection")
    }, ${formatCount(totals.messages ?? 0, "message")}`,
  );
  return 0;
}

if (import.meta.main) {
  // The same file is the worker module of --workers.
  if (isWorkerThread()) runPoolWorker(startWorker);
  else Deno.exit(await main());
}
