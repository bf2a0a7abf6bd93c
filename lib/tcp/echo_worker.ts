/**
 * The TCP echo server on every core (`tcp_echo_server.ts --workers N`):
 * {@linkcode startEchoWorkers} starts the pool from the main thread, and
 * {@linkcode startEchoWorker} is each worker's echo server on the pool's port.
 *
 * @module
 */

import type { ServerLogger } from "../net/logger.ts";
import type { PoolWorkerInit, PoolWorkerServer } from "../net/run_pool_worker.ts";
import { serveHosts } from "../net/serve_hosts.ts";
import { workerCodePaths } from "../net/worker_code_paths.ts";
import { WorkerPool } from "../net/worker_pool.ts";
import { echoHandler, type EchoStats } from "./echo_handler.ts";
import { serveTcp } from "./serve_tcp.ts";
import type { TlsCertifiedKey } from "./tls_certified_key.ts";

/** What each worker needs to start its echo server: the flags, TLS files already read. */
export interface EchoWorkerData {
  /** The addresses to listen on, one listener per host, all on the pool's port. */
  hosts: string[];
  /** The connection limit of the whole server (each worker takes its share). */
  maxConnections: number;
  /** Milliseconds of silence before a connection is closed (0 = never). */
  idleTimeout: number;
  /** The certificate and key, to serve TLS. */
  tls: TlsCertifiedKey | undefined;
}

/** Options for {@linkcode startEchoWorkers}. */
export interface EchoWorkersOptions {
  /** How many workers; see {@linkcode parseWorkerCount}. */
  count: number;
  /**
   * The port every worker binds; 0: the first worker picks one and the others follow it.
   *
   * @default {7000}
   */
  port?: number;
  /**
   * Where the pool logs (the workers log through their own logger).
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/**
 * One worker's echo server, on the pool's port with `reusePort`, one listener per host.
 * Totals: `connections`, `bytes`.
 *
 * @example The worker side of a script that is its own worker module
 * ```ts ignore
 * import { startEchoWorker } from "./echo_worker.ts";
 * import { isWorkerThread, runPoolWorker } from "../net/run_pool_worker.ts";
 *
 * if (isWorkerThread()) runPoolWorker((init) => startEchoWorker(init, console));
 * ```
 *
 * @param init What the pool gave this worker; `init.data` is an {@linkcode EchoWorkerData}.
 * @param log Where this worker's server logs.
 * @returns The server, as the pool watches it.
 * @throws {ListenError} If a host cannot be bound.
 */
export async function startEchoWorker(
  init: PoolWorkerInit<EchoWorkerData>,
  log: ServerLogger,
): Promise<PoolWorkerServer> {
  const { hosts, maxConnections, idleTimeout, tls } = init.data;
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

/**
 * Starts `options.count` workers of the module at `url` (which calls
 * {@linkcode startEchoWorker} in each) on `options.port`; each takes its share of
 * `maxConnections`, and Ctrl+C stops them all.
 *
 * @example The main side of a script that is its own worker module
 * ```ts ignore
 * import { startEchoWorkers } from "./echo_worker.ts";
 *
 * const data = { hosts: ["127.0.0.1"], maxConnections: 100, idleTimeout: 0, tls: undefined };
 * const pool = await startEchoWorkers(import.meta.url, data, { count: 2, port: 0 });
 * const totals = await pool.finished;
 * console.log(`echoed ${totals.bytes} bytes`);
 * ```
 *
 * @param url The worker module, usually the script's `import.meta.url`.
 * @param data What each worker gets.
 * @param options How many workers, the port, where the pool logs.
 * @returns The running pool.
 * @throws {WorkerStartError} If the first worker cannot start (its `cause` is a `ListenError`
 * when the port cannot be bound).
 */
export function startEchoWorkers<D extends EchoWorkerData>(
  url: string | URL,
  data: D,
  options: EchoWorkersOptions,
): Promise<WorkerPool> {
  const { count, port = 7000 } = options;
  return WorkerPool.start(new URL(url), {
    count,
    port,
    // The limit is the server's: each worker takes its share.
    data: { ...data, maxConnections: Math.ceil(data.maxConnections / count) },
    codePaths: workerCodePaths(url),
    handleSignals: true,
    logger: options.logger,
  });
}
