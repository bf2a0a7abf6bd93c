/**
 * Test helper: a real `redis-server` on 127.0.0.1 (and, for tests that
 * grant the permission, a Unix socket) in a temporary directory, stopped and
 * removed on dispose. Tests that
 * use it are `ignore`d when redis-server is missing, except under CI=true.
 *
 * @module
 */

import { missingTool } from "./external_tool.ts";

/** The `ignore:` value for Redis tests: redis-server is absent (under CI=true that fails instead). */
export const NO_REDIS = await missingTool("redis-server", ["--version"]);

/** A running redis-server. */
export interface RedisServer extends AsyncDisposable {
  /** Its TCP address, as a `redis://127.0.0.1:PORT` URL for `--redis`. */
  url: string;
  /** Its TCP port on 127.0.0.1. */
  port: number;
  /** Its Unix socket, which needs `--allow-net=unix:PATH --allow-read=PATH --allow-write=PATH`. */
  path: string;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same socket (after kill). */
  restart(): Promise<void>;
}

/**
 * Starts redis-server on a socket in a new temporary directory and waits
 * until it accepts connections.
 *
 * @returns The server; dispose of it with `await using`.
 */
export async function startRedis(): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "redis-test-" });
  const path = `${dir}/redis.sock`;
  let port = 0;
  let child: Deno.ChildProcess | null = null;
  let output: Promise<string> = Promise.resolve("");

  /**
   * redis-server cannot report a port it chose itself, so take a free one from
   * the kernel and hand it over; if another process grabs it in between,
   * redis-server exits and the next attempt takes another.
   */
  async function start(): Promise<void> {
    for (let attempt = 1;; attempt++) {
      if (port === 0 || attempt > 1) {
        using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        port = probe.addr.port;
      }
      try {
        return await startOnce();
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
  }

  async function startOnce(): Promise<void> {
    child = new Deno.Command("redis-server", {
      args: [
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        "--unixsocket",
        path,
        "--unixsocketperm",
        "700",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    // redis-server logs "ready to accept connections" once the socket is bound.
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        await child.status;
        child = null;
        throw new Error(`redis-server exited before it was ready:\n${seen}`);
      }
      seen += value;
      if (/ready to accept connections/i.test(seen)) break;
    }
    // Keep draining so the pipe never fills; the text is kept for failures.
    output = (async () => {
      let rest = seen;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return rest;
        rest += value;
      }
    })();
    await child.stderr.cancel();
  }

  async function stop(signal: Deno.Signal): Promise<void> {
    if (child === null) return;
    const running = child;
    child = null;
    try {
      running.kill(signal);
    } catch {
      // Already gone.
    }
    await running.status;
    await output;
  }

  await start();
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    path,
    kill: () => stop("SIGKILL"),
    restart: start,
    async [Symbol.asyncDispose]() {
      await stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    },
  };
}
