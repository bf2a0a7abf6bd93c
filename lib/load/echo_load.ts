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
