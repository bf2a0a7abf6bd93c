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
 * wrapped by `serveTcp` in lib/tcp/serve_tcp.ts (accept loop, limits, shutdown).
 *
 * @module
 */

import { listenHostsOptions, logLevel, parseCliOrExit, UsageError } from "../lib/cli/cli.ts";
import { readTlsFiles, TLS_SERVER_OPTIONS } from "../lib/cli/tls_files.ts";
import { Logger, type LogLevel } from "../lib/cli/log.ts";
import { formatCount } from "../lib/cli/format_count.ts";
import { allowNetFlag, formatRunCommand, isPermissionError } from "../lib/cli/run_command.ts";
import { formatAddr, stripBrackets } from "../lib/net/net_addr.ts";
import { explainListenError, isDisconnectError, ListenError } from "../lib/net/net_errors.ts";
import { serveHosts, type ServerGroup } from "../lib/net/serve_hosts.ts";
import { ReadBuffer } from "../lib/io/read_buffer.ts";
import {
  type ConnectionContext,
  serveTcp,
  type TcpServer,
  type TlsCertifiedKey,
} from "../lib/tcp/serve_tcp.ts";
import { resolveWorkerCount, WorkerPool } from "../lib/net/worker_pool.ts";
import {
  isWorkerThread,
  type PoolWorkerInit,
  type PoolWorkerServer,
  runPoolWorker,
} from "../lib/net/run_pool_worker.ts";
import { writeAll } from "../lib/io/write_all.ts";

/** The flags that set the listening address, for the advice when it cannot be bound. */
const LISTEN_FLAGS = { portFlag: "--port", hostFlag: "--host" };

/** Byte and connection counts, printed at shutdown. */
export interface EchoStats {
  /** Connections served so far. */
  connections: number;
  /** Bytes echoed so far. */
  bytes: number;
}

/**
 * Returns a connection handler that echoes until the client half-closes.
 *
 * @param log Where connects and disconnects are logged (debug level: `--verbose`).
 * @param stats Counters updated as connections finish.
 * @returns The handler for {@linkcode serveTcp}.
 */
export function echoHandler(log: Logger, stats: EchoStats) {
  return async (conn: Deno.Conn, ctx: ConnectionContext): Promise<void> => {
    log.debug(`#${ctx.id} ${formatAddr(ctx.remoteAddr)} connected`);
    stats.connections++;
    // conn.read() straight into a ReadBuffer, rather than a ChunkReader:
    // no promise of our own per read, which matters with thousands of idle
    // connections (see the idle figure of `deno task bench`).
    const buffer = new ReadBuffer();
    let bytes = 0;
    let how = "closed";
    try {
      for (let n; (n = await conn.read(buffer.bytes)) !== null;) {
        ctx.touch();
        await writeAll(conn, buffer.take(n));
        bytes += n;
      }
    } catch (error) {
      // On Ctrl+C the server closes every connection (an echo has nothing to
      // finish), which ends the pending read here.
      if (!isDisconnectError(error)) throw error;
      how = ctx.signal.aborted ? "closed by shutdown" : `dropped (${(error as Error).message})`;
    } finally {
      stats.bytes += bytes;
      log.debug(
        `#${ctx.id} ${formatAddr(ctx.remoteAddr)} ${how} after echoing ${
          formatCount(bytes, "byte")
        }`,
      );
    }
  };
}

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

/** What each worker needs to start its echo server: the flags, TLS files already read. */
interface EchoWorkerData {
  hosts: string[];
  maxConnections: number;
  idleTimeout: number;
  tls: TlsCertifiedKey | undefined;
  level: LogLevel;
}

/** One worker's echo server, on the pool's port with `reusePort`, one listener per host. */
async function startEchoWorker(init: PoolWorkerInit<EchoWorkerData>): Promise<PoolWorkerServer> {
  const { hosts, maxConnections, idleTimeout, tls, level } = init.data;
  // Each line says which worker wrote it: connection numbers are per worker.
  const log = new Logger({ level, write: (line) => console.error(`[w${init.index}] ${line}`) });
  const stats: EchoStats = { connections: 0, bytes: 0 };
  const group = await serveHosts(hosts, (hostname, port) =>
    serveTcp(echoHandler(log, stats), {
      hostname,
      port,
      tls,
      maxConnections,
      idleTimeout,
      gracePeriod: 0,
      reusePort: true,
      logger: log,
    }), { port: init.port });
  return {
    addr: group.addrs[0]!,
    finished: group.finished,
    shutdown: () => group.shutdown(),
    stats: () => ({ ...stats }),
  };
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
    // The lib's advice names no flag; ours does.
    const message = error instanceof ListenError
      ? explainListenError(error, error.hostname, error.port, LISTEN_FLAGS)
      : (error as Error).message;
    console.error(`error: ${message}`);
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
  data: EchoWorkerData,
  port: number,
  log: Logger,
): Promise<number> {
  let pool: WorkerPool;
  try {
    pool = await WorkerPool.start(new URL(import.meta.url), {
      count,
      port,
      // The limit is the server's: each worker takes its share.
      data: { ...data, maxConnections: Math.ceil(data.maxConnections / count) },
      // The sources load lib/ too; a bundle (`deno task bundle`) is one file.
      codePaths: import.meta.url.endsWith(".ts")
        ? [new URL(import.meta.url), new URL("../lib/", import.meta.url)]
        : [new URL(import.meta.url)],
      handleSignals: true,
      logger: log,
    });
  } catch (error) {
    const cause = (error as Error).cause;
    console.error(
      `error: ${
        cause instanceof ListenError
          ? explainListenError(cause, cause.hostname, cause.port, LISTEN_FLAGS)
          : (error as Error).message
      }`,
    );
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

if (import.meta.main) {
  // The same file is the worker module of --workers.
  if (isWorkerThread()) runPoolWorker(startEchoWorker);
  else Deno.exit(await main());
}
