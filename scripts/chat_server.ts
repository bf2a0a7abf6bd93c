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
  type ChatWorkerData,
  startChatWorker,
  startChatWorkers,
} from "../lib/chat/chat_workers.ts";
import { RedisRelay } from "../lib/chat/redis_relay.ts";
import {
  CHAT_LIMIT_OPTIONS,
  CHAT_SCALE_NOTES,
  CHAT_SCALE_OPTIONS,
  CHAT_WEB_NOTES,
  CHAT_WEB_OPTIONS,
  chatLimitsFrom,
  type ChatScale,
  chatScaleFrom,
  chatWebFrom,
  explainChatStartError,
  REDIS_START_ADVICE,
} from "../lib/cli/chat_server_flags.ts";
import { listenOptions, parseCliOrExit, UsageError } from "../lib/cli/cli.ts";
import { DEFLATE_SERVER_OPTIONS, deflateOptionsFrom } from "../lib/cli/deflate_flags.ts";
import { formatCount } from "../lib/cli/format_count.ts";
import { readTlsFiles, TLS_SERVER_OPTIONS } from "../lib/cli/tls_files.ts";
import { Logger } from "../lib/cli/log.ts";
import type { WorkerPool } from "../lib/net/worker_pool.ts";
import {
  isWorkerThread,
  type PoolWorkerInit,
  type PoolWorkerServer,
  runPoolWorker,
} from "../lib/net/run_pool_worker.ts";
import { formatAddr } from "../lib/net/net_addr.ts";

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
    ...CHAT_WEB_OPTIONS,
    ...CHAT_LIMIT_OPTIONS,
    ...CHAT_SCALE_OPTIONS,
    ...DEFLATE_SERVER_OPTIONS,
    ...TLS_SERVER_OPTIONS,
  },
  notes: [
    ...CHAT_SCALE_NOTES,
    ...CHAT_WEB_NOTES,
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
  let scale: ChatScale;
  try {
    scale = chatScaleFrom(values, { logger: log });
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }
  const serverOptions: ChatServerOptions = {
    hostname: values.host,
    port: values.port,
    tls,
    perMessageDeflate: deflateOptionsFrom(values),
    ...chatWebFrom(values),
    ...chatLimitsFrom(values),
  };
  const { workers, redis } = scale;
  if (workers > 1) {
    return await runWorkers(workers, { options: serverOptions, redis, quiet: values.quiet }, log);
  }

  let relay: RedisRelay | undefined;
  if (redis !== undefined) {
    try {
      relay = await RedisRelay.connect(redis.address, { ...redis, logger: log });
    } catch (error) {
      console.error(`error: ${(error as Error).message}\n${REDIS_START_ADVICE}`);
      return 1;
    }
  }

  let server: ChatServer;
  try {
    server = startChatServer({ ...serverOptions, relay, handleSignals: true, logger: log });
  } catch (error) {
    await relay?.close();
    if (!(error instanceof ChatListenError)) throw error;
    console.error(`error: ${explainChatStartError(error)}`);
    return 1;
  }
  printListening(server.addr, server.httpAddr, tls !== undefined);
  if (relay) log.info(`sharing rooms through Redis at ${relay.url} as server ${relay.id}`);
  await server.finished;
  // After the hub said goodbye to everyone, so their nicks are released in Redis too.
  await relay?.close();
  const connections = formatCount(server.hub.connectionCount, "connection");
  const messages = formatCount(server.hub.messageCount, "message");
  log.info(`shut down: served ${connections}, ${messages}`);
  return 0;
}

/** The stable `listening on` lines: the nc/telnet port, then the web page. */
function printListening(addr: Deno.NetAddr, http: Deno.NetAddr | undefined, tls: boolean): void {
  console.log(`listening on ${tls ? "tls://" : ""}${formatAddr(addr)}`);
  if (http !== undefined) {
    console.log(`listening on ${tls ? "https" : "http"}://${formatAddr(http)}/`);
  }
}

/** What each worker gets: the server's options and Redis, plus the log level. */
interface WorkerData extends ChatWorkerData {
  quiet: boolean;
}

/** The worker side of --workers: a chat server whose log lines say which worker wrote them. */
function startWorker(init: PoolWorkerInit<WorkerData>): Promise<PoolWorkerServer> {
  const write = (line: string) => console.error(`[w${init.index}] ${line}`);
  return startChatWorker(init, new Logger({ level: init.data.quiet ? "warn" : "info", write }));
}

/** `--workers N`: this same file runs in N workers; the main thread owns the shared rooms. */
async function runWorkers(count: number, data: WorkerData, log: Logger): Promise<number> {
  let pool: WorkerPool;
  try {
    pool = await startChatWorkers(import.meta.url, data, { count, logger: log });
  } catch (error) {
    console.error(`error: ${explainChatStartError(error, data.options.httpPort)}`);
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
  const connections = formatCount(totals.connections ?? 0, "connection");
  const messages = formatCount(totals.messages ?? 0, "message");
  log.info(`shut down: ${count} workers${restarted} served ${connections}, ${messages}`);
  return 0;
}

if (import.meta.main) {
  // The same file is the worker module of --workers.
  if (isWorkerThread()) runPoolWorker(startWorker);
  else Deno.exit(await main());
}
