/**
 * A `ping` over a TCP echo: one line per interval on one connection, each
 * timed until its whole echo is back. TCP does not lose data, so a missing
 * echo means the server is stuck or gone: the ping stops there instead of
 * counting losses.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { ChunkReader } from "../io/chunk_reader.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import { writeAll } from "../io/write_all.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { LatencyRecorder } from "./latency_stats.ts";

/** Options for {@linkcode tcpPing}. */
export interface TcpPingOptions {
  /** The server as `host:port`, for the lines and the summary. */
  target: string;
  /** Lines to send. */
  count: number;
  /**
   * The pause between lines, in ms.
   *
   * @default {1000}
   */
  interval?: number;
  /**
   * How long to wait for each echo, in ms; then the ping stops.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * The line to send (a newline is added).
   *
   * @default {"ping N"}
   */
  text?: string;
  /** Stops after the echo in progress (Ctrl+C); the summary is still returned. */
  signal?: AbortSignal;
  /**
   * Called with one `ping`-style line per echo, and the `TCP PING` header.
   *
   * @default {() => {}}
   */
  onLine?: (line: string) => void;
}

/** What {@linkcode tcpPing} counted, as `--json` prints it. */
export interface TcpPingSummary {
  /** The server, as `host:port`. */
  target: string;
  /** Lines sent. */
  sent: number;
  /** Lines whose whole echo came back. */
  received: number;
  /** From the first line to the end, in ms. */
  timeMs: number;
  /** Round-trip times; `null` when no echo came. */
  rttMs: { min: number; avg: number; max: number; mdev: number } | null;
  /** Why the ping stopped early: the server closed, or an echo did not come in time. */
  error?: string;
}

/**
 * Pings a TCP echo server over `conn`, and closes `conn` at the end.
 *
 * @param conn A connection to an echo server.
 * @param options How many lines, how often, and where lines go.
 * @returns The summary; `error` is set if the ping stopped early.
 * @throws {Error} A write or read error other than a disconnect.
 *
 * @example
 * ```ts ignore
 * import { formatTcpPingSummary, tcpPing } from "./tcp_ping.ts";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 7000 });
 * const summary = await tcpPing(conn, { target: "127.0.0.1:7000", count: 3, onLine: console.log });
 * console.log(formatTcpPingSummary(summary).join("\n"));
 * ```
 */
export async function tcpPing(conn: Deno.Conn, options: TcpPingOptions): Promise<TcpPingSummary> {
  const { target, count } = options;
  const timeout = options.timeout ?? 5000;
  const signal = options.signal ?? new AbortController().signal;
  const print = options.onLine ?? (() => {});
  const encoder = new TextEncoder();
  const reader = new ChunkReader(conn);
  const rtts = new LatencyRecorder();
  let sent = 0;
  let received = 0;
  let failure: string | undefined;
  let pending = new Uint8Array(0);
  const started = performance.now();
  print(`TCP PING ${target}`);
  try {
    for (let seq = 1; seq <= count && !signal.aborted; seq++) {
      const line = encoder.encode(`${options.text ?? `ping ${seq}`}\n`);
      const sentAt = performance.now();
      await writeAll(conn, line);
      sent++;
      // Read until this line's bytes are all back (echoes come back in order).
      const timer = setTimeout(() => closeQuietly(conn), timeout);
      try {
        while (pending.length < line.length) {
          const chunk = await reader.read();
          if (chunk === null) {
            failure = `${target} closed the connection after ${received} echoes`;
            break;
          }
          const joined = new Uint8Array(pending.length + chunk.length);
          joined.set(pending);
          joined.set(chunk, pending.length);
          pending = joined;
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.BadResource || isDisconnectError(error))) throw error;
        failure = signal.aborted ? undefined : `no echo for seq=${seq} within ${timeout / 1000} s`;
      } finally {
        clearTimeout(timer);
      }
      if (failure !== undefined || pending.length < line.length) break;
      pending = pending.subarray(line.length);
      const rtt = performance.now() - sentAt;
      received++;
      rtts.record(rtt);
      print(`${line.length} bytes from ${target}: seq=${seq} time=${rtt.toFixed(3)} ms`);
      if (seq < count) {
        await sleep(options.interval ?? 1000, undefined, { signal }).catch(() => {});
      }
    }
  } finally {
    closeQuietly(conn);
  }
  const s = rtts.summary();
  return {
    target,
    sent,
    received,
    timeMs: performance.now() - started,
    rttMs: received > 0 ? { min: s.min, avg: s.avg, max: s.max, mdev: s.mdev } : null,
    ...(failure ? { error: failure } : {}),
  };
}

/**
 * The summary lines `ping` prints, for a {@linkcode TcpPingSummary} (its `error` is not included).
 *
 * @param summary What {@linkcode tcpPing} returned.
 * @returns Two lines, or three when some echo came.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTcpPingSummary } from "./tcp_ping.ts";
 *
 * const lines = formatTcpPingSummary({
 *   target: "127.0.0.1:7000", sent: 2, received: 2, timeMs: 1001.4,
 *   rttMs: { min: 0.1, avg: 0.15, max: 0.2, mdev: 0.05 },
 * });
 * assert.deepEqual(lines, [
 *   "--- 127.0.0.1:7000 TCP ping statistics ---",
 *   "2 sent, 2 echoed, time 1001 ms",
 *   "rtt min/avg/max/mdev = 0.100/0.150/0.200/0.050 ms",
 * ]);
 * ```
 */
export function formatTcpPingSummary(summary: TcpPingSummary): string[] {
  const lines = [
    `--- ${summary.target} TCP ping statistics ---`,
    `${summary.sent} sent, ${summary.received} echoed, time ${summary.timeMs.toFixed(0)} ms`,
  ];
  const r = summary.rttMs;
  if (r) {
    lines.push(
      `rtt min/avg/max/mdev = ${r.min.toFixed(3)}/${r.avg.toFixed(3)}/${r.max.toFixed(3)}/${
        r.mdev.toFixed(3)
      } ms`,
    );
  }
  return lines;
}
