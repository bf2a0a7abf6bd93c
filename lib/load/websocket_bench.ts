/**
 * The `--bench` mode of a WebSocket client: {@linkcode runWebSocketLoad}
 * against an echo URL, with the JSON keys every client's `--bench --json`
 * has, and one line for a person.
 *
 * @module
 */

import { formatHostPort, stripBrackets } from "../net/net_addr.ts";
import { withClientCpu } from "./bench_options.ts";
import { runWebSocketLoad } from "./websocket_load.ts";

/** Options for {@linkcode benchWebSocket}. */
export interface WebSocketBenchOptions {
  /**
   * How many connections to open.
   *
   * @default {1}
   */
  connections?: number;
  /**
   * Messages in flight per connection.
   *
   * @default {1}
   */
  inFlight?: number;
  /**
   * Text message size, in bytes.
   *
   * @default {64}
   */
  size?: number;
  /**
   * How long to measure, in ms, after the warm-up.
   *
   * @default {3000}
   */
  duration?: number;
  /**
   * How long to run before measuring, in ms.
   *
   * @default {500}
   */
  warmup?: number;
}

/** What {@linkcode benchWebSocket} measured, with the keys every client's `--bench --json` has. */
export interface WebSocketBenchReport {
  /** The URL measured. */
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
  /** Round-trip times, in ms. */
  latencyMs: { p50: number; p99: number; max: number; avg: number };
  /** This process's CPU over the run, as a share of one core. */
  clientCpu: number;
}

/**
 * The `--bench` mode of a WebSocket client: measures the echo endpoint at
 * `url` with {@linkcode runWebSocketLoad} and this process's CPU meanwhile.
 *
 * @param url A `ws://` URL of an echo endpoint.
 * @param options Connections, concurrency, size and duration.
 * @returns The figures, ready for `JSON.stringify` or {@linkcode formatWebSocketBench}.
 * @throws {TypeError} If `url` is not `ws://` (no TLS here).
 * @throws {Error} "connection refused: is the server running on HOST:PORT?", or
 *   "permission denied: run with --allow-net=HOST:PORT".
 *
 * @example
 * ```ts ignore
 * import { benchWebSocket, formatWebSocketBench } from "./websocket_bench.ts";
 *
 * const report = await benchWebSocket("ws://127.0.0.1:8080/echo", { connections: 10 });
 * console.log(formatWebSocketBench(report));
 * ```
 */
export async function benchWebSocket(
  url: string,
  options: WebSocketBenchOptions = {},
): Promise<WebSocketBenchReport> {
  const { protocol, hostname, port, pathname, search } = new URL(url);
  if (protocol !== "ws:") throw new TypeError("--bench measures ws:// endpoints only (no TLS)");
  const host = stripBrackets(hostname);
  const target = { hostname: host, port: Number(port || 80) };
  const settings = {
    connections: options.connections ?? 1,
    inFlight: options.inFlight ?? 1,
    size: options.size ?? 64,
  };
  let measured;
  try {
    measured = await withClientCpu(() =>
      runWebSocketLoad({
        ...target,
        ...settings,
        path: pathname + search,
        duration: options.duration,
        warmup: options.warmup,
      })
    );
  } catch (error) {
    const where = formatHostPort(host, target.port);
    if (error instanceof Deno.errors.ConnectionRefused) {
      throw new Error(`connection refused: is the server running on ${where}?`);
    }
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(`permission denied: run with --allow-net=${where}`);
    }
    throw error;
  }
  const { result, clientCpu } = measured;
  const l = result.latency;
  return {
    target: url,
    ...settings,
    seconds: result.seconds,
    messages: result.messages,
    messagesPerSecond: result.messagesPerSecond,
    latencyMs: { p50: l.p50, p99: l.p99, max: l.max, avg: l.avg },
    clientCpu,
  };
}

/**
 * One line for a person reading a {@linkcode WebSocketBenchReport}.
 *
 * @param report What {@linkcode benchWebSocket} returned.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatWebSocketBench } from "./websocket_bench.ts";
 *
 * const line = formatWebSocketBench({
 *   target: "ws://127.0.0.1:8080/echo", connections: 10, inFlight: 16, size: 64, seconds: 3,
 *   messages: 300000, messagesPerSecond: 100000,
 *   latencyMs: { p50: 1.5, p99: 3, max: 9, avg: 1.6 }, clientCpu: 0.9,
 * });
 * assert.equal(
 *   line,
 *   "10 connections x 16 in flight x 64 bytes: 100000 messages/s, " +
 *     "latency p50 1.500 ms, p99 3.000 ms, client CPU 90%",
 * );
 * ```
 */
export function formatWebSocketBench(report: WebSocketBenchReport): string {
  const l = report.latencyMs;
  return `${report.connections} connections x ${report.inFlight} in flight x ${report.size} bytes: ` +
    `${report.messagesPerSecond.toFixed(0)} messages/s, ` +
    `latency p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, ` +
    `client CPU ${(report.clientCpu * 100).toFixed(0)}%`;
}
