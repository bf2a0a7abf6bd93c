/**
 * The worker side of a {@linkcode WorkerPool}: a module started by the pool
 * calls {@linkcode runPoolWorker} with a function that starts its server on
 * the port it is given; {@linkcode isWorkerThread} tells a script that is its
 * own worker module which side it runs on.
 *
 * @module
 */

import { ListenError } from "./net_errors.ts";
import type { FromWorker, ToWorker } from "./_worker_messages.ts";

/** What a worker's server must offer the pool. */
export interface PoolWorkerServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has shut down by itself or after `shutdown()`. */
  readonly finished: Promise<void>;
  /** Starts a graceful shutdown; resolves like `finished`. */
  shutdown(): Promise<void>;
  /** Counters summed over all workers for the final summary, e.g. `{ connections: 3 }`. */
  stats(): Record<string, number>;
  /** More ports this server bound besides `addr`'s, by name (`{ http: 8002 }`). */
  readonly ports?: Record<string, number>;
}

/** What a worker gets from the pool when it starts. */
export interface PoolWorkerInit<D> {
  /** The worker's number, 0 to count - 1 (a restarted worker keeps its number). */
  index: number;
  /** How many times this worker was restarted before (0 at first). */
  generation: number;
  /** The port to bind, with `reusePort: true`; the first worker may get 0. */
  port: number;
  /** The first worker's other ports (its `ports`), to bind as well; empty in the first. */
  ports: Record<string, number>;
  /** The data given to {@linkcode WorkerPool.start}, structured-cloned. */
  data: D;
  /** Sends an application message to the main thread's `onMessage`. */
  send(message: unknown): void;
  /** Receives the main thread's {@linkcode WorkerPool.post} and `broadcast` messages. */
  onMessage(handler: (message: unknown) => void): void;
}

/** True inside a Web Worker: a script that is its own worker module checks this first. */
export function isWorkerThread(): boolean {
  return "WorkerGlobalScope" in globalThis;
}

/**
 * The worker side: waits for the pool's start message, starts the server with `start`, and
 * stops it when the pool says so, reporting its counters.
 *
 * @example The whole worker module
 * ```ts ignore
 * import { runPoolWorker } from "./run_pool_worker.ts";
 * import { serveTcp } from "../tcp/serve_tcp.ts";
 *
 * runPoolWorker(({ port }) => {
 *   let connections = 0;
 *   const server = serveTcp(() => void connections++, { port, reusePort: true });
 *   return { ...server, shutdown: () => server.shutdown(), stats: () => ({ connections }) };
 * });
 * ```
 *
 * @param start Starts this worker's server on `init.port` with `reusePort: true`.
 */
export function runPoolWorker<D>(
  start: (init: PoolWorkerInit<D>) => PoolWorkerServer | Promise<PoolWorkerServer>,
): void {
  const scope = globalThis as unknown as {
    postMessage(message: FromWorker): void;
    close(): void;
    onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  };
  let server: PoolWorkerServer | undefined;
  let appHandler: (message: unknown) => void = () => {};
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server?.shutdown();
    scope.postMessage({ kind: "stopped", stats: server?.stats() ?? {} });
  };
  scope.onmessage = async (event) => {
    const message = event.data;
    if (message.kind === "app") return appHandler(message.message);
    if (message.kind === "shutdown") return void stop();
    try {
      server = await start({
        index: message.index,
        generation: message.generation,
        port: message.port,
        ports: message.ports,
        data: message.data as D,
        send: (app) => scope.postMessage({ kind: "app", message: app }),
        onMessage: (handler) => appHandler = handler,
      });
    } catch (error) {
      // A ListenError may be wrapped (ChatListenError): find it, so the main thread can explain.
      let listen: ListenError | undefined;
      for (let e: unknown = error; e instanceof Error; e = e.cause) {
        if (e instanceof ListenError) {
          listen = e;
          break;
        }
      }
      const cause = (listen?.cause ?? error) as Error;
      scope.postMessage({
        kind: "failed",
        name: cause?.name ?? "Error",
        message: cause?.message ?? String(error),
        hostname: listen?.hostname,
        port: listen?.port,
      });
      return;
    }
    scope.postMessage({
      kind: "listening",
      hostname: server.addr.hostname,
      port: server.addr.port,
      ports: server.ports ?? {},
    });
    // A server that ends by itself (not through the pool) reports too.
    server.finished.then(stop, stop);
  };
}
