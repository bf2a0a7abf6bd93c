/**
 * A load generator for echo servers: many connections, each keeping a fixed
 * number of messages in flight, measuring throughput and round-trip latency.
 *
 * @module
 */

import { ChunkReader } from "../io/chunk_reader.ts";
import { connectTcp } from "../tcp/connect_tcp.ts";
import { LatencyRecorder, type LatencySummary } from "./latency_stats.ts";
import { writeAll } from "../io/write_all.ts";
import { formatHostPort } from "../net/net_addr.ts";
import { withClientCpu } from "./bench_options.ts";

/** Options for {@linkcode runEchoLoad}. */
export interface EchoLoadOptions {
  /**
   * The server's address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The server's port. */
  port: number;
  /**
   * How many connections to open.
   *
   * @default {1}
   */
  connections?: number;
  /**
   * The size of each message, in bytes.
   *
   * @default {64}
   */
  size?: number;
  /**
   * Messages in flight per connection: sent but not yet echoed.
   *
   * @default {1}
   */
  inFlight?: number;
  /**
   * How long to measure, in ms, after the warm-up.
   *
   * @default {5000}
   */
  duration?: number;
  /**
   * How long to run before measuring, in ms (lets buffers and the JIT settle).
   *
   * @default {500}
   */
  warmup?: number;
  /**
   * Speak TLS.
   *
   * @default {false}
   */
  tls?: boolean;
  /** Extra PEM certificates to trust with `tls`. */
  caCerts?: string[];
}

/** What {@linkcode runEchoLoad} measured. */
export interface EchoLoadResult {
  /** Echoed messages completed in the measured window. */
  messages: number;
  /** The measured window, in seconds. */
  seconds: number;
  /** Messages echoed per second. */
  messagesPerSecond: number;
  /** Echoed payload per second, in MB (10^6 bytes), one direction. */
  megabytesPerSecond: number;
  /** Round-trip times, in ms. */
  latency: LatencySummary;
}

/**
 * Drives an echo server and measures it. Every connection writes `inFlight`
 * messages, then sends one more for each one that comes back, so the server
 * always has `connections * inFlight` messages to echo. The run is bounded by
 * `warmup + duration` (plus draining what is in flight).
 *
 * @param options Target, shape of the load and duration.
 * @returns Throughput and latency.
 * @throws {ConnectError} If a connection cannot be opened.
 * @throws {Error} If the server closes a connection during the run.
 *
 * @example
 * ```ts ignore
 * import { runEchoLoad } from "./echo_load.ts";
 *
 * const result = await runEchoLoad({ port: 7000, connections: 10, inFlight: 16, duration: 2000 });
 * console.log(`${result.messagesPerSecond.toFixed(0)} msgs/s, p99 ${result.latency.p99} ms`);
 * ```
 */
export async function runEchoLoad(options: EchoLoadOptions): Promise<EchoLoadResult> {
  const connections = options.connections ?? 1;
  const size = options.size ?? 64;
  const inFlight = options.inFlight ?? 1;
  const duration = options.duration ?? 5_000;
  const warmup = options.warmup ?? 500;
  if (size < 1 || inFlight < 1 || connections < 1) {
    throw new RangeError("Cannot run echo load: connections, size and inFlight must be at least 1");
  }
  const conns = await Promise.all(
    Array.from({ length: connections }, () =>
      connectTcp({
        hostname: options.hostname,
        port: options.port,
        tls: options.tls,
        caCerts: options.caCerts,
      })),
  );
  const recorder = new LatencyRecorder();
  const start = performance.now();
  const window = { from: start + warmup, until: start + warmup + duration, messages: 0 };
  try {
    await Promise.all(conns.map((conn) => drive(conn, size, inFlight, window, recorder)));
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
  const seconds = duration / 1000;
  return {
    messages: window.messages,
    seconds,
    messagesPerSecond: window.messages / seconds,
    megabytesPerSecond: window.messages * size / seconds / 1e6,
    latency: recorder.summary(),
  };
}

async function drive(
  conn: Deno.Conn,
  size: number,
  inFlight: number,
  window: { from: number; until: number; messages: number },
  recorder: LatencyRecorder,
): Promise<void> {
  const burst = new Uint8Array(size * inFlight).fill(0x61);
  // Send times of the messages in flight, oldest first, in a ring.
  const sentAt = new Float64Array(inFlight);
  let head = 0;
  let pending = 0;
  const send = async (count: number, now: number) => {
    for (let i = 0; i < count; i++) sentAt[(head + pending + i) % inFlight] = now;
    pending += count;
    await writeAll(conn, count === inFlight ? burst : burst.subarray(0, count * size));
  };

  await send(inFlight, performance.now());
  const reader = new ChunkReader(conn, { initialSize: Math.min(65_536, size * inFlight) });
  let partial = 0;
  while (pending > 0) {
    const chunk = await reader.read();
    if (chunk === null) throw new Error("Cannot finish the load: the server closed a connection");
    partial += chunk.length;
    const done = Math.floor(partial / size);
    if (done === 0) continue;
    partial -= done * size;
    const now = performance.now();
    const measured = now >= window.from && now <= window.until;
    for (let i = 0; i < done; i++) {
      if (measured) recorder.record(now - sentAt[head]!);
      head = (head + 1) % inFlight;
    }
    pending -= done;
    if (measured) window.messages += done;
    if (now < window.until) await send(done, now);
  }
}

/** What {@linkcode benchEcho} measured, with the keys every client's `--bench --json` has. */
export interface EchoBenchReport {
  /** The server, as `host:port`. */
  target: string;
  /** Connections open. */
  connections: number;
  /** Messages in flight per connection. */
  inFlight: number;
  /** Message size, in bytes. */
  size: number;
  /** The measured window, in seconds. */
  seconds: number;
  /** Echoes in the window. */
  messages: number;
  /** Echoes per second. */
  messagesPerSecond: number;
  /** Echoed payload, in MB (10^6 bytes) per second. */
  megabytesPerSecond: number;
  /** Round-trip times, in ms. */
  latencyMs: { p50: number; p99: number; max: number; avg: number };
  /** This process's CPU over the run, as a share of one core. */
  clientCpu: number;
}

/**
 * The `--bench` mode of a TCP echo client: {@linkcode runEchoLoad} and this
 * process's CPU meanwhile.
 *
 * @param options As for {@linkcode runEchoLoad}.
 * @returns The figures, ready for `JSON.stringify` or {@linkcode formatEchoBench}.
 * @throws {ConnectError} If a connection cannot be made (from `connectTcp`).
 *
 * @example
 * ```ts ignore
 * import { benchEcho, formatEchoBench } from "./echo_load.ts";
 *
 * console.log(formatEchoBench(await benchEcho({ port: 7000, connections: 10, inFlight: 16 })));
 * ```
 */
export async function benchEcho(options: EchoLoadOptions): Promise<EchoBenchReport> {
  const { result, clientCpu } = await withClientCpu(() => runEchoLoad(options));
  const l = result.latency;
  return {
    target: formatHostPort(options.hostname ?? "127.0.0.1", options.port),
    connections: options.connections ?? 1,
    inFlight: options.inFlight ?? 1,
    size: options.size ?? 64,
    seconds: result.seconds,
    messages: result.messages,
    messagesPerSecond: result.messagesPerSecond,
    megabytesPerSecond: result.megabytesPerSecond,
    latencyMs: { p50: l.p50, p99: l.p99, max: l.max, avg: l.avg },
    clientCpu,
  };
}

/**
 * One line for a person reading an {@linkcode EchoBenchReport}.
 *
 * @param report What {@linkcode benchEcho} returned.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatEchoBench } from "./echo_load.ts";
 *
 * const line = formatEchoBench({
 *   target: "127.0.0.1:7000", connections: 100, inFlight: 16, size: 64, seconds: 1,
 *   messages: 1500000, messagesPerSecond: 1500000, megabytesPerSecond: 96,
 *   latencyMs: { p50: 0.9, p99: 2.6, max: 9, avg: 1 }, clientCpu: 0.86,
 * });
 * assert.equal(
 *   line,
 *   "100 conn x 16 in flight x 64 B, 1 s: 1500000 msgs/s, 96.0 MB/s, " +
 *     "latency p50 0.900 ms p99 2.600 ms, client CPU 86%",
 * );
 * ```
 */
export function formatEchoBench(report: EchoBenchReport): string {
  const l = report.latencyMs;
  return `${report.connections} conn x ${report.inFlight} in flight x ${report.size} B, ` +
    `${report.seconds} s: ${report.messagesPerSecond.toFixed(0)} msgs/s, ` +
    `${report.megabytesPerSecond.toFixed(1)} MB/s, ` +
    `latency p50 ${l.p50.toFixed(3)} ms p99 ${l.p99.toFixed(3)} ms, ` +
    `client CPU ${(report.clientCpu * 100).toFixed(0)}%`;
}
