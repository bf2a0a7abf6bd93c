/**
 * One server on every core: N Web Workers, each with its own listener on the same port
 * (`reusePort`, so the Linux kernel spreads new connections between them), started, watched,
 * restarted after a crash and stopped together by the main thread.
 *
 * This module is the main thread's side: it calls {@linkcode WorkerPool.start} with the URL of
 * a module that, inside the worker, calls {@linkcode runPoolWorker} (run_pool_worker.ts).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type ServerLogger, STDERR_LOGGER } from "./logger.ts";
import { onShutdownSignal } from "./shutdown_signals.ts";
import { ListenError } from "./net_errors.ts";
import type { FromWorker, ToWorker } from "./_worker_messages.ts";

/** Options for {@linkcode WorkerPool.start}. */
export interface WorkerPoolOptions<D> {
  /** How many workers; see {@linkcode parseWorkerCount}. */
  count: number;
  /** The port every worker binds; 0: the first worker picks one and the others follow it. */
  port: number;
  /** Given to every worker (flags, TLS files already read): must be structured-cloneable. */
  data: D;
  /**
   * Files and folders the worker loads its code from: a worker reads its module graph from
   * disk, which needs `--allow-read` for them (checked before any worker starts).
   *
   * @default {[the worker module]}
   */
  codePaths?: URL[];
  /**
   * Shut every worker down on SIGINT and SIGTERM (a second Ctrl+C exits at once).
   *
   * @default {false}
   */
  handleSignals?: boolean;
  /**
   * Milliseconds workers get to finish after a shutdown starts before they are terminated.
   *
   * @default {10000}
   */
  shutdownTimeout?: number;
  /**
   * The longest pause before restarting a worker that keeps crashing at once, in ms (the
   * pause doubles from 100 ms while a restarted worker crashes within a second).
   *
   * @default {5000}
   */
  maxRestartDelay?: number;
  /**
   * Called with every application message a worker sends (see `PoolWorkerInit.send`), with
   * the pool to answer through (it may come before {@linkcode WorkerPool.start} resolves).
   *
   * @default {ignore them}
   */
  onMessage?: (index: number, message: unknown, pool: WorkerPool) => void;
  /**
   * Called when a worker crashed, before it is restarted (its connections are gone).
   *
   * @default {nothing}
   */
  onCrash?: (index: number) => void;
  /**
   * Called after a crashed worker was started again and listens.
   *
   * @default {nothing}
   */
  onRestart?: (index: number, generation: number) => void;
  /**
   * Where starts, crashes and restarts are logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** `--workers` needs `SO_REUSEPORT` load balancing, which the runtime offers on Linux only. */
export const WORKERS_SUPPORTED: boolean = Deno.build.os === "linux";

/**
 * Reads a `--workers` value: a positive count, or `0`/`auto` for one per core.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkerCount } from "./worker_pool.ts";
 *
 * assert.equal(parseWorkerCount("4"), 4);
 * assert.equal(parseWorkerCount("auto"), navigator.hardwareConcurrency);
 * assert.equal(parseWorkerCount("0"), navigator.hardwareConcurrency);
 * assert.throws(() => parseWorkerCount("two"), RangeError);
 * ```
 *
 * @param value The flag's text.
 * @returns The number of workers, at least 1.
 * @throws {RangeError} If `value` is not a whole number from 0 to 256 or `auto`.
 */
export function parseWorkerCount(value: string): number {
  if (value === "auto" || value === "0") return Math.max(1, navigator.hardwareConcurrency);
  const count = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(count >= 1 && count <= 256)) {
    throw new RangeError(
      `Cannot use --workers ${value}: expected 1 to 256, or 0 or auto for one per core`,
    );
  }
  return count;
}

/** Options for {@linkcode resolveWorkerCount}. */
export interface ResolveWorkerCountOptions {
  /**
   * Told when workers were asked for where they are not supported.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/**
 * Reads a `--workers` value like {@linkcode parseWorkerCount}, and falls back to one server
 * (with a warning) where {@linkcode WORKERS_SUPPORTED} is false.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveWorkerCount, WORKERS_SUPPORTED } from "./worker_pool.ts";
 *
 * const quiet = { debug() {}, info() {}, warn() {}, error() {} };
 * assert.equal(resolveWorkerCount("1", { logger: quiet }), 1);
 * assert.equal(resolveWorkerCount("2", { logger: quiet }), WORKERS_SUPPORTED ? 2 : 1);
 * assert.throws(() => resolveWorkerCount("two"), RangeError);
 * ```
 *
 * @param value The flag's text.
 * @param options Where the fallback is told.
 * @returns The number of workers to start, at least 1.
 * @throws {RangeError} If `value` is not a whole number from 0 to 256 or `auto`.
 */
export function resolveWorkerCount(value: string, options: ResolveWorkerCountOptions = {}): number {
  const workers = parseWorkerCount(value);
  if (workers > 1 && !WORKERS_SUPPORTED) {
    (options.logger ?? STDERR_LOGGER).warn(
      `--workers needs Linux (SO_REUSEPORT load balancing); running one server`,
    );
    return 1;
  }
  return workers;
}

/** Thrown by {@linkcode WorkerPool.start} when the first worker cannot start its server. */
export class WorkerStartError extends Error {
  /**
   * Wraps what the worker reported.
   *
   * @param message The worker's error message.
   * @param cause The error rebuilt in the main thread (a `ListenError` for a bind failure).
   */
  constructor(message: string, cause?: unknown) {
    super(`Cannot start worker: ${message}`, { cause });
    this.name = "WorkerStartError";
  }
}

/** What a worker reports once it listens. */
interface Listening {
  addr: Deno.NetAddr;
  ports: Record<string, number>;
}

interface Slot {
  index: number;
  generation: number;
  worker: Worker;
  startedAt: number;
  stopped: PromiseWithResolvers<Record<string, number>>;
  restartDelay: number;
}

/**
 * N workers serving one port. The main thread itself serves nothing: it starts the workers,
 * restarts one that crashes (the others keep serving; its connections are lost), and on
 * shutdown tells each to stop and sums their counters into one summary.
 *
 * @example Two workers of a module that calls runPoolWorker
 * ```ts ignore
 * import { WorkerPool } from "./worker_pool.ts";
 *
 * const pool = await WorkerPool.start(new URL("./my_server.ts", import.meta.url), {
 *   count: 2,
 *   port: 0,
 *   data: {},
 * });
 * console.log(`listening on port ${pool.addr.port}`);
 * const totals = await pool.shutdown(); // e.g. { connections: 12 }
 * ```
 */
export class WorkerPool {
  #url: URL;
  #options: WorkerPoolOptions<unknown>;
  #log: ServerLogger;
  #slots: Slot[] = [];
  #port = 0;
  #ports: Record<string, number> = {};
  #addr: Deno.NetAddr = { transport: "tcp", hostname: "", port: 0 };
  #stopping = false;
  /** True once every worker listened: from then on a crash means a restart. */
  #started = false;
  #restarts = 0;
  /** Counters of workers that stopped, crashed ones' last report included (none: lost). */
  #totals: Record<string, number> = {};
  #finished = Promise.withResolvers<Record<string, number>>();
  #removeSignals: (() => void) | undefined;

  private constructor(url: URL, options: WorkerPoolOptions<unknown>) {
    this.#url = url;
    this.#options = options;
    this.#log = options.logger ?? STDERR_LOGGER;
  }

  /**
   * Starts `options.count` workers of the module at `url` and waits until all listen.
   *
   * @param url The worker module; inside a worker it must call {@linkcode runPoolWorker}.
   * @param options Count, port, data, signals and callbacks.
   * @returns The running pool.
   * @throws {WorkerStartError} If the first worker cannot start (its `cause` is a
   * `ListenError` when binding failed); the pool is stopped first.
   * @throws {RangeError} If `count` is not a positive integer.
   */
  static async start<D>(url: URL, options: WorkerPoolOptions<D>): Promise<WorkerPool> {
    if (!Number.isInteger(options.count) || options.count < 1) {
      throw new RangeError(`Cannot start workers: count ${options.count} is not positive`);
    }
    if (typeof Deno.listenDatagram !== "function") {
      // Any unstable net API tells: reusePort is one of them.
      throw new WorkerStartError("workers share a port with reusePort: run with --unstable-net");
    }
    const code = (options.codePaths ?? [url]).map((path) => fileURLToPath(path));
    const unreadable = code.filter((path) =>
      Deno.permissions.querySync({ name: "read", path }).state !== "granted"
    );
    if (unreadable.length > 0) {
      throw new WorkerStartError(
        `each worker loads its code from disk: run with --allow-read=${unreadable.join(",")}`,
      );
    }
    const pool = new WorkerPool(url, options as WorkerPoolOptions<unknown>);
    // The first worker settles the port (0 picks one); the others bind the same one.
    pool.#port = options.port;
    try {
      const first = await pool.#spawn(0, 0);
      pool.#addr = first.addr;
      pool.#port = first.addr.port;
      pool.#ports = first.ports;
      await Promise.all(
        Array.from({ length: options.count - 1 }, (_, i) => pool.#spawn(i + 1, 0)),
      );
    } catch (error) {
      await pool.shutdown();
      throw error;
    }
    pool.#started = true;
    if (options.handleSignals) {
      pool.#removeSignals = onShutdownSignal(() => void pool.shutdown(), { logger: pool.#log });
    }
    return pool;
  }

  /** The address the workers share. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /** The other ports the workers share, as the first worker named them. */
  get ports(): Readonly<Record<string, number>> {
    return this.#ports;
  }

  /** How many workers run. */
  get count(): number {
    return this.#options.count;
  }

  /** Workers restarted after a crash so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Resolves with the summed counters once every worker has stopped. */
  get finished(): Promise<Record<string, number>> {
    return this.#finished.promise;
  }

  /**
   * Sends an application message to worker `index` (its `PoolWorkerInit.onMessage`).
   *
   * @param index The worker's number.
   * @param message A structured-cloneable value.
   */
  post(index: number, message: unknown): void {
    this.#slots[index]?.worker.postMessage({ kind: "app", message } satisfies ToWorker);
  }

  /**
   * Sends an application message to every worker.
   *
   * @param message A structured-cloneable value.
   */
  broadcast(message: unknown): void {
    for (const slot of this.#slots) this.post(slot.index, message);
  }

  /**
   * Tells every worker to shut down, waits for their reports (terminating any that take
   * longer than `shutdownTimeout`), and resolves with the summed counters.
   *
   * @returns The counters of all workers, summed.
   */
  shutdown(): Promise<Record<string, number>> {
    if (this.#stopping) return this.#finished.promise;
    this.#stopping = true;
    const timeout = this.#options.shutdownTimeout ?? 10_000;
    const slots = this.#slots.filter((slot) => slot !== undefined);
    for (const slot of slots) slot.worker.postMessage({ kind: "shutdown" } satisfies ToWorker);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, timeout));
    Promise.race([Promise.all(slots.map((slot) => slot.stopped.promise)), late])
      .then(() => {
        clearTimeout(timer);
        for (const slot of slots) slot.worker.terminate();
        this.#removeSignals?.();
        this.#finished.resolve(this.#totals);
      });
    return this.#finished.promise;
  }

  /** Starts worker `index` and resolves with its addresses once it listens. */
  #spawn(index: number, generation: number): Promise<Listening> {
    const worker = new Worker(this.#url, { type: "module" });
    const listening = Promise.withResolvers<Listening>();
    const slot: Slot = {
      index,
      generation,
      worker,
      startedAt: performance.now(),
      stopped: Promise.withResolvers(),
      restartDelay: this.#slots[index]?.restartDelay ?? 0,
    };
    this.#slots[index] = slot;
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      switch (message.kind) {
        case "listening":
          listening.resolve({
            addr: { transport: "tcp", hostname: message.hostname, port: message.port },
            ports: message.ports,
          });
          break;
        case "failed":
          listening.reject(new WorkerStartError(message.message, rebuildError(message)));
          slot.stopped.resolve({});
          break;
        case "stopped":
          this.#add(message.stats);
          slot.stopped.resolve(message.stats);
          break;
        case "app":
          this.#options.onMessage?.(index, message.message, this);
          break;
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      // Handled here, so the crash does not take the main thread (and every worker) down.
      event.preventDefault();
      this.#crashed(slot, event.message, listening);
    };
    worker.onmessageerror = () => this.#log.warn(`worker ${index}: a message could not be read`);
    worker.postMessage(
      {
        kind: "start",
        index,
        generation,
        port: this.#port,
        ports: this.#ports,
        data: this.#options.data,
      } satisfies ToWorker,
    );
    return listening.promise;
  }

  #crashed(slot: Slot, reason: string, listening: PromiseWithResolvers<Listening>): void {
    if (this.#slots[slot.index] !== slot) return; // already replaced
    slot.worker.terminate();
    slot.stopped.resolve({});
    listening.reject(new WorkerStartError(`worker ${slot.index} crashed: ${reason}`));
    if (this.#stopping || !this.#started) return;
    this.#options.onCrash?.(slot.index);
    // A worker that crashes again at once is restarted ever more slowly, not in a hot loop.
    const quick = performance.now() - slot.startedAt < 1000;
    const delay = quick ? Math.min(Math.max(100, slot.restartDelay * 2), this.#maxDelay) : 0;
    slot.restartDelay = delay;
    this.#log.error(
      `worker ${slot.index} crashed (${reason}); restarting it${
        delay > 0 ? ` in ${delay} ms` : ""
      }, the others keep serving`,
    );
    setTimeout(() => {
      if (this.#stopping) return;
      const generation = slot.generation + 1;
      this.#spawn(slot.index, generation).then(() => {
        this.#restarts++;
        this.#log.info(`worker ${slot.index} restarted`);
        this.#options.onRestart?.(slot.index, generation);
      }, (error) => this.#log.error(`worker ${slot.index}: ${(error as Error).message}`));
    }, delay);
  }

  get #maxDelay(): number {
    return this.#options.maxRestartDelay ?? 5000;
  }

  #add(stats: Record<string, number>): void {
    for (const [key, value] of Object.entries(stats)) {
      this.#totals[key] = (this.#totals[key] ?? 0) + value;
    }
  }
}

/** Rebuilds a worker's start error in the main thread: a ListenError stays a ListenError. */
function rebuildError(report: Extract<FromWorker, { kind: "failed" }>): Error {
  const errors = Deno.errors as unknown as Record<string, new (message: string) => Error>;
  const Runtime = errors[report.name];
  const cause = Runtime ? new Runtime(report.message) : new Error(report.message);
  if (report.hostname !== undefined && report.port !== undefined) {
    return new ListenError(cause, report.hostname, report.port);
  }
  return cause;
}
