/**
 * The WebSocket server on every core (`ws_server.ts --workers N`):
 * {@linkcode startWsWorkers} starts the pool from the main thread, and
 * {@linkcode startWsWorker} is each worker's server on the pool's port, its `/broadcast`
 * crossing workers over a `BroadcastChannel`.
 *
 * @module
 */

import type { ServerLogger } from "../net/logger.ts";
import type { PoolWorkerInit, PoolWorkerServer } from "../net/run_pool_worker.ts";
import { workerCodePaths } from "../net/worker_code_paths.ts";
import { WorkerPool } from "../net/worker_pool.ts";
import { startWsServer, type WsServerOptions } from "./ws_server.ts";

/** What each worker gets: the server's options (without logger and signals). */
export interface WsWorkerData {
  /** The server's options; the pool's port replaces `port`. */
  options: WsServerOptions;
}

/** Options for {@linkcode startWsWorkers}. */
export interface WsWorkersOptions {
  /** How many workers; see {@linkcode parseWorkerCount}. */
  count: number;
  /**
   * Where the pool logs (the workers log through their own logger).
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** The channel the workers' /broadcast endpoints share. */
const BROADCAST_CHANNEL = "ws_server.ts /broadcast";

/**
 * One worker's server, on the pool's port with `reusePort`. Totals: the server's `stats`
 * (`connections`, `messages`).
 *
 * @example The worker side of a script that is its own worker module
 * ```ts ignore
 * import { startWsWorker } from "./ws_worker.ts";
 * import { isWorkerThread, runPoolWorker } from "../net/run_pool_worker.ts";
 *
 * if (isWorkerThread()) runPoolWorker((init) => startWsWorker(init, console));
 * ```
 *
 * @param init What the pool gave this worker; `init.data` is a {@linkcode WsWorkerData}.
 * @param log Where this worker's server logs.
 * @returns The server, as the pool watches it.
 * @throws {ListenError} If the port cannot be bound.
 */
export function startWsWorker(
  init: PoolWorkerInit<WsWorkerData>,
  log: ServerLogger,
): PoolWorkerServer {
  const server = startWsServer({
    ...init.data.options,
    port: init.port,
    reusePort: true,
    broadcastChannel: BROADCAST_CHANNEL,
    logger: log,
  });
  return {
    addr: server.addr,
    finished: server.finished,
    shutdown: () => server.shutdown(),
    stats: () => ({ ...server.stats }),
  };
}

/**
 * Starts `options.count` workers of the module at `url` (which calls
 * {@linkcode startWsWorker} in each); each takes its share of `maxConnections`, and Ctrl+C
 * stops them all.
 *
 * @example The main side of a script that is its own worker module
 * ```ts ignore
 * import { startWsWorkers } from "./ws_worker.ts";
 *
 * const pool = await startWsWorkers(import.meta.url, { options: { port: 0 } }, { count: 2 });
 * const totals = await pool.finished;
 * console.log(`${totals.messages} messages`);
 * ```
 *
 * @param url The worker module, usually the script's `import.meta.url`.
 * @param data What each worker gets; `maxConnections` is split between them.
 * @param options How many workers, and where the pool logs.
 * @returns The running pool.
 * @throws {WorkerStartError} If the first worker cannot start (its `cause` is a `ListenError`
 * when the port cannot be bound).
 */
export function startWsWorkers<D extends WsWorkerData>(
  url: string | URL,
  data: D,
  options: WsWorkersOptions,
): Promise<WorkerPool> {
  const { count } = options;
  return WorkerPool.start(new URL(url), {
    count,
    port: data.options.port ?? 8080,
    // The limit is the server's: each worker takes its share.
    data: {
      ...data,
      options: {
        ...data.options,
        maxConnections: Math.ceil((data.options.maxConnections ?? 10_000) / count),
      },
    },
    codePaths: workerCodePaths(url),
    handleSignals: true,
    logger: options.logger,
  });
}
