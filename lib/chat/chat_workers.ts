/**
 * The chat on every core (`chat_server.ts --workers N`): {@linkcode startChatWorkers} starts
 * the pool from the main thread, which owns nicks, rooms and history
 * ({@linkcode ChatOwner}); {@linkcode startChatWorker} is what each worker runs, a chat server
 * on the pool's two ports that asks the owner (or Redis) for what spans workers.
 *
 * @module
 */

import { type ChatServerOptions, startChatServer } from "./chat_server.ts";
import { RedisRelay, type RedisRelayOptions } from "./redis_relay.ts";
import { batchByWorker, ChatOwner, type FromChatOwner, WorkerChatRelay } from "./worker_relay.ts";
import type { ServerLogger } from "../net/logger.ts";
import type { PoolWorkerInit, PoolWorkerServer } from "../net/run_pool_worker.ts";
import { workerCodePaths } from "../net/worker_code_paths.ts";
import { WorkerPool } from "../net/worker_pool.ts";
import type { RedisAddress } from "../redis/redis_address.ts";

/** Where Redis is and how the relay uses it (`--redis`), as {@linkcode RedisRelay.connect} takes it. */
export interface ChatRedisSettings extends RedisRelayOptions {
  /** Redis's address. */
  address: RedisAddress;
}

/** What each chat worker gets: the server's options (no logger, no relay) and Redis, if any. */
export interface ChatWorkerData {
  /** The chat server's options; the pool's ports replace `port` and `httpPort`. */
  options: ChatServerOptions;
  /** Share rooms through Redis instead of the main thread's owner. */
  redis: ChatRedisSettings | undefined;
}

/** Options for {@linkcode startChatWorkers}. */
export interface ChatWorkersOptions {
  /** How many workers; see {@linkcode parseWorkerCount}. */
  count: number;
  /**
   * Where the pool logs (the workers log through their own logger).
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/**
 * One worker's chat server on the pool's two ports. Without Redis its hub shares rooms with
 * the other workers through the owner in the main thread; with Redis, each worker is one more
 * server of the Redis chat, and the owner stays idle.
 *
 * @example The worker side of a script that is its own worker module
 * ```ts ignore
 * import { startChatWorker } from "./chat_workers.ts";
 * import { isWorkerThread, runPoolWorker } from "../net/run_pool_worker.ts";
 *
 * if (isWorkerThread()) runPoolWorker((init) => startChatWorker(init, console));
 * ```
 *
 * @param init What the pool gave this worker; `init.data` is a {@linkcode ChatWorkerData}.
 * @param log Where this worker's server logs.
 * @returns The server, as the pool watches it.
 * @throws {RedisUnavailableError} If `redis` is set and Redis cannot be reached.
 * @throws {ChatListenError} If a port cannot be bound.
 */
export async function startChatWorker(
  init: PoolWorkerInit<ChatWorkerData>,
  log: ServerLogger,
): Promise<PoolWorkerServer> {
  const { options, redis } = init.data;
  const redisRelay = redis === undefined
    ? undefined
    : await RedisRelay.connect(redis.address, { ...redis, logger: log });
  const server = startChatServer({
    ...options,
    port: init.port,
    httpPort: options.httpPort === undefined ? undefined : init.ports.http ?? options.httpPort,
    reusePort: true,
    relay: redisRelay ?? new WorkerChatRelay(init, `w${init.index}.${init.generation}`),
    logger: log,
  });
  const finished = server.finished.then(() => redisRelay?.close());
  return {
    addr: server.addr,
    ports: server.httpAddr === undefined ? {} : { http: server.httpAddr.port },
    finished,
    shutdown: () => server.shutdown().then(() => finished),
    stats: () => ({
      connections: server.hub.connectionCount,
      messages: server.hub.messageCount,
    }),
  };
}

/**
 * Starts `options.count` workers of the module at `url` (which calls {@linkcode startChatWorker} in
 * each), with the main thread as the owner of the shared rooms. Each worker takes its share
 * of `maxClients`; Ctrl+C stops them all. Totals: `connections`, `messages`.
 *
 * @example The main side of a script that is its own worker module
 * ```ts ignore
 * import { startChatWorkers } from "./chat_workers.ts";
 *
 * const pool = await startChatWorkers(import.meta.url, {
 *   options: { port: 0, httpPort: 0 },
 *   redis: undefined,
 * }, { count: 2 });
 * const totals = await pool.finished;
 * console.log(`${totals.messages} messages`);
 * ```
 *
 * @param url The worker module, usually the script's `import.meta.url`.
 * @param data What each worker gets; `maxClients` is split between them.
 * @param options How many workers, and where the pool logs.
 * @returns The running pool.
 * @throws {WorkerStartError} If the first worker cannot start its server (its `cause` is a
 * `ListenError` when a port cannot be bound).
 */
export async function startChatWorkers<D extends ChatWorkerData>(
  url: string | URL,
  data: D,
  options: ChatWorkersOptions,
): Promise<WorkerPool> {
  const { count } = options;
  const post = batchByWorker<FromChatOwner>((worker, message) => pool?.post(worker, message));
  const owner = new ChatOwner(post, {
    historySize: data.options.historySize,
  });
  let pool: WorkerPool | undefined;
  pool = await WorkerPool.start(new URL(url), {
    count,
    port: data.options.port ?? 7002,
    // The limit is the server's: each worker takes its share.
    data: {
      ...data,
      options: {
        ...data.options,
        maxClients: Math.ceil((data.options.maxClients ?? 10_000) / count),
      },
    },
    codePaths: workerCodePaths(url),
    handleSignals: true,
    logger: options.logger,
    onMessage: (worker, message, starting) => {
      pool ??= starting;
      owner.handle(worker, message);
    },
    // A crashed worker's members are gone: free their nicks and seats at once.
    onCrash: (worker) => owner.workerGone(worker),
  });
  return pool;
}
