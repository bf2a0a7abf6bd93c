/**
 * Network basics every other package may use: addresses, error advice,
 * shutdown on Ctrl+C, rate limiting and the logger interface. Nothing here
 * opens a socket.
 *
 * - {@linkcode formatAddr}, {@linkcode formatHostPort}, {@linkcode stripBrackets}
 *   and {@linkcode parseListeningLine} (net_addr.ts): `HOST:PORT` with
 *   brackets for IPv6, and the one `listening on ...` line every server
 *   prints and every test, bench and the demo read back.
 * - {@linkcode explainListenError} and {@linkcode isDisconnectError}
 *   (net_errors.ts): a runtime error turned into advice, and "the peer went
 *   away" told apart from a bug.
 * - {@linkcode onShutdownSignal} (shutdown_signals.ts): Ctrl+C and SIGTERM
 *   as a graceful shutdown, a second Ctrl+C to force.
 * - {@linkcode TokenBucket} (token_bucket.ts): rate limiting with an
 *   injectable clock.
 * - {@linkcode WorkerPool} (worker_pool.ts) and {@linkcode runPoolWorker} (run_pool_worker.ts): one
 *   server per core, N Web Workers listening on the same port with
 *   `reusePort` (`--workers`), restarted after a crash, stopped together;
 *   {@linkcode workerCodePaths} (worker_code_paths.ts) lists the code they load.
 * - {@linkcode ServerLogger} and {@linkcode STDERR_LOGGER} (logger.ts): what
 *   servers log through; `console` satisfies it, so the network packages
 *   need nothing from the CLI package.
 *
 * @example
 * ```ts
 * import { formatHostPort, parseListeningLine } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const line = `listening on ${formatHostPort("::1", 7000)}`;
 * assert.deepEqual(parseListeningLine(line), { hostname: "::1", port: 7000 });
 * ```
 *
 * @module
 */
export * from "./logger.ts";
export * from "./net_addr.ts";
export * from "./net_errors.ts";
export * from "./run_pool_worker.ts";
export * from "./serve_hosts.ts";
export * from "./shutdown_signals.ts";
export * from "./token_bucket.ts";
export * from "./worker_code_paths.ts";
export * from "./worker_pool.ts";
