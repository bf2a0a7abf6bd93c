/**
 * The report of an echo benchmark run: one JSON object for a program, one
 * line for a person, from an {@linkcode EchoLoadResult}.
 *
 * @module
 */

import type { EchoLoadResult } from "./echo_load.ts";

/** What the run was, besides what it measured; for {@linkcode echoBenchReport}. */
export interface EchoBenchReportOptions {
  /** The server, as `host:port`. */
  target: string;
  /** Connections used. */
  connections: number;
  /** Messages in flight per connection. */
  inFlight: number;
  /** Message size in bytes. */
  size: number;
  /** The client's CPU use over the run, 1 = one core (see `withClientCpu`). */
  clientCpu: number;
}

/** An echo benchmark's result, as `tcp_echo_client.ts --bench --json` prints it. */
export interface EchoBenchReport {
  /** The server, as `host:port`. */
  target: string;
  /** Connections used. */
  connections: number;
  /** Messages in flight per connection. */
  inFlight: number;
  /** Message size in bytes. */
  size: number;
  /** The measured window, in seconds. */
  seconds: number;
  /** Echoed messages in the window. */
  messages: number;
  /** Messages echoed per second. */
  messagesPerSecond: number;
  /** Echoed payload per second, in MB, one direction. */
  megabytesPerSecond: number;
  /** Round-trip times, in ms. */
  latencyMs: { p50: number; p99: number; max: number; avg: number };
  /** The client's CPU use, 1 = one core. */
  clientCpu: number;
}

/**
 * Combines what a run was and what it measured into one report.
 *
 * @param result What `runEchoLoad` returned.
 * @param options The run's target, shape and client CPU.
 * @returns The report, ready for `JSON.stringify` or {@linkcode formatEchoBenchReport}.
 *
 * @example
 * ```ts
 * import { echoBenchReport } from "./echo_bench_report.ts";
 * import assert from "node:assert/strict";
 *
 * const latency = { count: 2, min: 1, avg: 1.5, p50: 1, p99: 2, max: 2, mdev: 0.5 };
 * const report = echoBenchReport(
 *   { messages: 2, seconds: 1, messagesPerSecond: 2, megabytesPerSecond: 0, latency },
 *   { target: "127.0.0.1:7000", connections: 1, inFlight: 1, size: 64, clientCpu: 0.5 },
 * );
 * assert.deepEqual(report.latencyMs, { p50: 1, p99: 2, max: 2, avg: 1.5 });
 * ```
 */
export function echoBenchReport(
  result: EchoLoadResult,
  options: EchoBenchReportOptions,
): EchoBenchReport {
  const l = result.latency;
  return {
    target: options.target,
    connections: options.connections,
    inFlight: options.inFlight,
    size: options.size,
    seconds: result.seconds,
    messages: result.messages,
    messagesPerSecond: result.messagesPerSecond,
    megabytesPerSecond: result.megabytesPerSecond,
    latencyMs: { p50: l.p50, p99: l.p99, max: l.max, avg: l.avg },
    clientCpu: options.clientCpu,
  };
}

/**
 * One line for a person: the load's shape, throughput, latency and client CPU.
 *
 * @param report What {@linkcode echoBenchReport} returned.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import { formatEchoBenchReport } from "./echo_bench_report.ts";
 * import assert from "node:assert/strict";
 *
 * const line = formatEchoBenchReport({
 *   target: "127.0.0.1:7000",
 *   connections: 10,
 *   inFlight: 16,
 *   size: 64,
 *   seconds: 5,
 *   messages: 500000,
 *   messagesPerSecond: 100000,
 *   megabytesPerSecond: 6.4,
 *   latencyMs: { p50: 1.5, p99: 3, max: 9, avg: 1.6 },
 *   clientCpu: 0.95,
 * });
 * assert.equal(
 *   line,
 *   "10 conn x 16 in flight x 64 B, 5 s: 100000 msgs/s, 6.4 MB/s, " +
 *     "latency p50 1.500 ms p99 3.000 ms, client CPU 95%",
 * );
 * ```
 */
export function formatEchoBenchReport(report: EchoBenchReport): string {
  const l = report.latencyMs;
  return `${report.connections} conn x ${report.inFlight} in flight x ${report.size} B, ` +
    `${report.seconds} s: ${report.messagesPerSecond.toFixed(0)} msgs/s, ` +
    `${report.megabytesPerSecond.toFixed(1)} MB/s, ` +
    `latency p50 ${l.p50.toFixed(3)} ms p99 ${l.p99.toFixed(3)} ms, ` +
    `client CPU ${(report.clientCpu * 100).toFixed(0)}%`;
}
