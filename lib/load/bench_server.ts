/**
 * Benchmark helper: start a server script as a child process, wait for its
 * `listening on HOST:PORT` line, and measure its CPU and memory while a load
 * runs, so a benchmark can compare our server with a bare baseline in the
 * same run.
 *
 * @module
 */

import process from "node:process";
import { LineDecoder } from "../framing/line_decoder.ts";
import { type ProcessUsage, readProcessUsage } from "./process_usage.ts";
import { parseListeningLine } from "../net/net_addr.ts";

/** A server process started by {@linkcode startBenchServer}. */
export interface BenchServer extends AsyncDisposable {
  /** The port from its `listening on` line. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** Reads its CPU time and RSS now. */
  usage(): Promise<ProcessUsage>;
  /** Stops it (SIGINT, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options for {@linkcode startBenchServer}. */
export interface BenchServerOptions {
  /**
   * Runtime flags placed before the script path.
   *
   * @default {["--allow-net=127.0.0.1"]}
   */
  denoFlags?: string[];
  /**
   * How long to wait for the `listening on` line, in ms.
   *
   * @default {10000}
   */
  timeout?: number;
}

/**
 * Runs `deno run <denoFlags> <script> <args>` and resolves once it listens.
 *
 * @param script Path of the server script.
 * @param args Its arguments (use a port of 0).
 * @param options Runtime flags and start-up timeout.
 * @returns The running server.
 * @throws {Error} If it exits or stays silent before listening.
 *
 * @example
 * ```ts ignore
 * import { startBenchServer } from "./bench_server.ts";
 *
 * await using server = await startBenchServer("scripts/tcp_echo_server.ts", ["--port", "0", "-q"]);
 * const before = await server.usage();
 * // ... drive load at server.port ...
 * console.log(`CPU ${(await server.usage()).cpuSeconds - before.cpuSeconds} s`);
 * ```
 */
export async function startBenchServer(
  script: string,
  args: string[],
  options: BenchServerOptions = {},
): Promise<BenchServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.denoFlags ?? ["--allow-net=127.0.0.1"]), script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.getReader();
  const lines = new LineDecoder();
  const deadline = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 10_000);
  let port = 0;
  try {
    while (port === 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Cannot start ${script}: it exited before printing "listening on"`);
      lines.push(value);
      for (let line; (line = lines.next()) !== null;) {
        // The first `listening on` line is the main port (a server may print more).
        const listening = parseListeningLine(line);
        if (listening && port === 0) port = listening.port;
      }
    }
  } catch (error) {
    await child.status;
    throw error;
  } finally {
    clearTimeout(deadline);
  }
  // Keep draining stdout so the server never blocks writing to a full pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      try {
        child.kill("SIGINT");
      } catch { /* already exited */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }, 5_000);
      await child.status;
      clearTimeout(timer);
      await drained;
    })();
    return stopping;
  };
  return {
    port,
    pid: child.pid,
    usage: () => readProcessUsage(child.pid),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** CPU use measured by {@linkcode measureCpu}, as shares of one core over the run. */
export interface CpuMeasurement<T> {
  /** What the measured function returned. */
  result: T;
  /** The run's wall-clock time, in seconds. */
  seconds: number;
  /** The server's CPU time during the run, in seconds. */
  serverCpuSeconds: number;
  /** The server's CPU use, as a share of one core (1 = 100%). */
  serverCpu: number;
  /** This process's (the load client's) CPU use, as a share of one core. */
  clientCpu: number;
}

/**
 * Runs `load` and measures the CPU used meanwhile by the server and by this
 * process, which on a 2-core machine tells whether the figure measured the
 * server or the load client.
 *
 * @param server The server under load.
 * @param load Drives the load; its result is passed through.
 * @returns The result with the CPU figures.
 *
 * @example
 * ```ts ignore
 * import { measureCpu, startBenchServer } from "./bench_server.ts";
 * import { runEchoLoad } from "./echo_load.ts";
 *
 * await using server = await startBenchServer("scripts/tcp_echo_server.ts", ["--port", "0", "-q"]);
 * const { result, serverCpu, clientCpu } = await measureCpu(server, () => runEchoLoad({ port: server.port }));
 * ```
 */
export async function measureCpu<T>(
  server: BenchServer,
  load: () => Promise<T>,
): Promise<CpuMeasurement<T>> {
  const before = await server.usage();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const result = await load();
  const seconds = (performance.now() - started) / 1000;
  const after = await server.usage();
  const client = process.cpuUsage(clientBefore);
  const serverCpuSeconds = after.cpuSeconds - before.cpuSeconds;
  return {
    result,
    seconds,
    serverCpuSeconds,
    serverCpu: serverCpuSeconds / seconds,
    clientCpu: (client.user + client.system) / 1e6 / seconds,
  };
}
