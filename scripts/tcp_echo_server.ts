/**
 * # TCP echo server
 *
 * Echoes every byte it receives back to the sender, streaming, with
 * backpressure: it reads the next chunk only once the previous one has been
 * written back, so a client that sends but never reads fills its own socket
 * buffers and stalls, instead of making the server buffer without bound.
 * When the client shuts its sending side (half-close), the server finishes
 * echoing and then closes.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/tcp_echo_server.ts
 * deno run --allow-net=127.0.0.1 --allow-read=tests/fixtures scripts/tcp_echo_server.ts \
 *   --tls-cert tests/fixtures/localhost.crt --tls-key tests/fixtures/localhost.key
 * ```
 *
 * On Linux, `--workers N` (or `auto`, one per core) runs N Web Workers, each with its own
 * listener on the same port (`reusePort`, so it needs `--unstable-net`): the kernel spreads
 * new connections between them, a worker that crashes is restarted, and Ctrl+C stops them all
 * with one summary:
 *
 * ```sh
 * deno run --unstable-net --allow-net=127.0.0.1 --allow-read=scripts,lib \
 *   scripts/tcp_echo_server.ts --workers auto
 * ```
 *
 * Try it: `nc 127.0.0.1 7000`, type `hello`, and `hello` comes back.
 * `printf 'hi\n' | nc -N 127.0.0.1 7000` prints `hi` and exits.
 *
 * Built on `Deno.listen` (`Deno.listenTls` with `--tls-cert`) and `conn.read`/`conn.write`,
 * wrapped by `serveTcp` in lib/tcp/serve_tcp.ts (accept loop, limits, shutdown); the echo
 * loop itself is `echoHandler` in lib/tcp/echo_handler.ts, the `--workers` side
 * lib/tcp/echo_worker.ts.
 *
 * @module
 */

import { parseCliOrExit, UsageError } from "../lib/cli/cli.ts";
import { listenHostsOptions, logLevel } from "../lib/cli/cli_options.ts";
import { readTlsFiles, TLS_SERVER_OPTIONS } from "../lib/cli/tls_files.ts";
import { Logger, type LogLevel } from "../lib/cli/log.ts";
import { formatCount } from "../lib/cli/format_count.ts";
import { allowNetFlag, formatRunCommand, isPermissionError } from "../lib/cli/run_command.ts";
import { formatAddr, stripBrackets } from "../lib/net/net_addr.ts";
import { explainListenError, ListenError } from "../lib/net/net_errors.ts";
import { serveHosts, type ServerGroup } from "../lib/net/serve_hosts.ts";
import { serveTcp, type TcpServer } from "../lib/tcp/serve_tcp.ts";
import { echoHandler, type EchoStats } from "../lib/tcp/echo_handler.ts";
import { type EchoWorkerData, startEchoWorker, startEchoWorkers } from "../lib/tcp/echo_worker.ts";
import { resolveWorkerCount, type WorkerPool } from "../lib/net/worker_pool.ts";
import {
  isWorkerThread,
  type PoolWorkerInit,
  type PoolWorkerServer,
  runPoolWorker,
} from "../lib/net/run_pool_worker.ts";

/** The flags that set the listening address, for the advice when it cannot be bound. */
const LISTEN_FLAGS = { portFlag: "--port", hostFlag: "--host" };

const CLI = {
  name: "tcp_echo_server.ts",
  summary: "Echo every byte back to the sender (TCP, or TLS with --tls-cert/--tls-key).",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/tcp_echo_server.ts [options]",
    "deno run --allow-net=127.0.0.1 --allow-read=tests/fixtures scripts/tcp_echo_server.ts \\",
    "  --tls-cert tests/fixtures/localhost.crt --tls-key tests/fixtures/localhost.key",
  ],
  options: {
    ...listenHostsOptions(7000),
    "max-connections": {
      type: "integer",
      default: 10_000,
      min: 1,
      description: "Refuse clients beyond this many",
    },
    "idle-timeout": {
      type: "number",
      default: 300,
      min: 0,
      valueName: "SECONDS",
      description: "Close connections idle this long (0 = never)",
    },
    workers: {
      type: "string",
      default: "1",
      valueName: "N|auto",
      description: "Worker threads sharing the port (0 or auto: one per core); see below",
    },
    ...TLS_SERVER_OPTIONS,
  },
  notes: [
    "--workers N: N Web Workers, each listening on the same port with reusePort (Linux only:",
    "elsewhere one server runs); needs --unstable-net and --allow-read=scripts,lib (each",
    "worker loads the code from disk). A crashed worker is restarted; Ctrl+C stops them all.",
    "Prints one line per address: `listening on 127.0.0.1:7000` (`tls://127.0.0.1:7000` with TLS).",
    "Both loopbacks at once: --host 127.0.0.1 --host ::1 (one port for both, also with --port 0).",
    "Try it: nc 127.0.0.1 7000   (type a line; it comes back)",
  ],
} as const;

/** What each worker gets: the echo server's flags, plus the log level. */
interface WorkerData extends EchoWorkerData {
  level: LogLevel;
}

/** The worker side of --workers: an echo server whose log lines say which worker wrote them. */
function startWorker(init: PoolWorkerInit<WorkerData>): Promise<PoolWorkerServer> {
  // Each line says which worker wrote it: connection numbers are per worker.
  const write = (line: string) => console.error(`[w${init.index}] ${line}`);
  return startEchoWorker(init, new Logger({ level: init.data.level, write }));
}

/** Starts the server from command-line flags; resolves when it has shut down. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const log = new Logger({ level: logLevel(values) });
  let workers: number;
  try {
    workers = resolveWorkerCount(values.workers, { logger: log });
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }
  let tls;
  try {
    tls = await readTlsFiles(values["tls-cert"], values["tls-key"]);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }

  if (workers > 1) {
    return await runWorkers(
      workers,
      {
        hosts: values.host,
        maxConnections: values["max-connections"],
        idleTimeout: values["idle-timeout"] * 1000,
        tls,
        level: logLevel(values),
      },
      values.port,
      log,
    );
  }
  const stats: EchoStats = { connections: 0, bytes: 0 };
  let group: ServerGroup<TcpServer>;
  try {
    // One listener per --host, all on one port, sharing the handler's counters.
    group = await serveHosts(values.host, (hostname, port) =>
      serveTcp(echoHandler(log, stats), {
        hostname,
        port,
        tls,
        maxConnections: values["max-connections"],
        idleTimeout: values["idle-timeout"] * 1000,
        // Nothing to finish in an echo: on Ctrl+C close every connection at once.
        gracePeriod: 0,
        logger: log,
      }), { port: values.port, handleSignals: true, logger: log });
  } catch (error) {
    console.error(`error: ${listenAdvice(error, (error as Error).message)}`);
    if (isPermissionError(error)) {
      const read = tls ? [`--allow-read=${values["tls-cert"]},${values["tls-key"]}`] : [];
      console.error(`run: ${formatRunCommand([allowNetFlag(values.host), ...read], { args })}`);
    }
    return 1;
  }
  for (const addr of group.addrs) {
    console.log(`listening on ${tls ? "tls://" : ""}${formatAddr(addr)}`);
  }
  await group.finished;
  log.info(
    `shut down: served ${formatCount(stats.connections, "connection")}, echoed ${
      formatCount(stats.bytes, "byte")
    }`,
  );
  return 0;
}

/** `--workers N`: this same file runs in N workers; the main thread only watches them. */
async function runWorkers(
  count: number,
  data: WorkerData,
  port: number,
  log: Logger,
): Promise<number> {
  let pool: WorkerPool;
  try {
    pool = await startEchoWorkers(import.meta.url, data, { count, port, logger: log });
  } catch (error) {
    console.error(`error: ${listenAdvice((error as Error).cause, (error as Error).message)}`);
    return 1;
  }
  // Every worker listens on every --host, on the same port.
  for (const hostname of new Set(data.hosts.map(stripBrackets))) {
    console.log(
      `listening on ${data.tls ? "tls://" : ""}${formatAddr({ ...pool.addr, hostname })}`,
    );
  }
  log.info(`${count} workers share the port; the kernel spreads connections between them`);
  const totals = await pool.finished;
  const restarted = pool.restarts > 0 ? ` (${pool.restarts} restarted after a crash)` : "";
  log.info(
    `shut down: ${count} workers${restarted} served ${
      formatCount(totals.connections ?? 0, "connection")
    }, echoed ${formatCount(totals.bytes ?? 0, "byte")}`,
  );
  return 0;
}

/** A start error as advice: the lib's advice names no flag; ours does. */
function listenAdvice(error: unknown, message: string): string {
  return error instanceof ListenError
    ? explainListenError(error, error.hostname, error.port, LISTEN_FLAGS)
    : message;
}

if (import.meta.main) {
  // The same file is the worker module of --workers.
  if (isWorkerThread()) runPoolWorker(startWorker);
  else Deno.exit(await main());
}
