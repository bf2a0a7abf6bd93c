/**
 * A throwaway `redis-server` on 127.0.0.1 for benchmarks and the demo: a free port, nothing
 * saved to disk, stopped on dispose.
 *
 * @module
 */

/** A running redis-server started by {@linkcode startRedisServer}. */
export interface RedisServerProcess extends AsyncDisposable {
  /** Its address as a `redis://127.0.0.1:PORT` URL, for `--redis`. */
  readonly url: string;
  /** Its process id (for CPU figures). */
  readonly pid: number;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Whether `redis-server` can be run here.
 *
 * @returns `true` if `redis-server --version` ran.
 *
 * @example
 * ```ts ignore
 * import { hasRedisServer } from "./redis_server_process.ts";
 *
 * if (!(await hasRedisServer())) console.log("skipped: redis-server is not installed");
 * ```
 */
export async function hasRedisServer(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Starts redis-server on a free port of 127.0.0.1 (no persistence) and waits until it is
 * ready. The port comes from the kernel (a listener on port 0, closed just before), since
 * redis-server cannot report a port it picked itself.
 *
 * @returns The running server.
 * @throws {Error} If redis-server cannot be run or exits before it is ready.
 *
 * @example
 * ```ts ignore
 * import { startRedisServer } from "./redis_server_process.ts";
 *
 * await using redis = await startRedisServer();
 * console.log(`chat_server.ts --redis ${redis.url}`);
 * ```
 */
export async function startRedisServer(): Promise<RedisServerProcess> {
  let port: number;
  {
    using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = probe.addr.port;
  }
  const child = new Deno.Command("redis-server", {
    args: ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!/ready to accept connections/i.test(seen)) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`Cannot start redis-server: it exited before it was ready:\n${seen}`);
    }
    seen += value;
  }
  // Keep draining, so redis-server never blocks on a full pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await drained;
    })();
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
