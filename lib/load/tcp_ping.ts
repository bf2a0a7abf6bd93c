/**
 * A TCP ping: one line per interval on one connection, each timed until its
 * whole echo is back, then `ping`-style statistics.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { ChunkReader } from "../io/chunk_reader.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import { writeAll } from "../io/write_all.ts";
import { formatAddr } from "../net/net_addr.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { LatencyRecorder } from "./latency_stats.ts";

/**
 * The `--count` and `--interval` flags of a client's TCP ping mode; spread them
 * into a `CliSpec`'s options (seconds on the command line, ms in {@linkcode TcpPingOptions}).
 *
 * @example
 * ```ts
 * import { TCP_PING_OPTIONS } from "./tcp_ping.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TCP_PING_OPTIONS.interval.default, 1);
 * assert.equal(TCP_PING_OPTIONS.count.type, "integer");
 * ```
 */
export const TCP_PING_OPTIONS = {
  count: {
    type: "integer",
    min: 1,
    max: 1_000_000,
    description: "TCP ping: send N lines at --interval, one RTT line each, then a summary",
  },
  interval: {
    type: "number",
    short: "i",
    default: 1,
    min: 0,
    max: 3600,
    valueName: "SECONDS",
    description: "TCP ping: time between lines",
  },
} as const;

/** One echoed line, for {@linkcode TcpPingOptions.onReply}. */
export interface TcpPingReply {
  /** The line's sequence number, from 1. */
  seq: number;
  /** The line's length in bytes, newline included. */
  bytes: number;
  /** The round-trip time, in ms. */
  rtt: number;
}

/** Options for {@linkcode tcpPing}. */
export interface TcpPingOptions {
  /**
   * How many lines to send.
   *
   * @default {1}
   */
  count?: number;
  /**
   * Time between lines, in ms.
   *
   * @default {1000}
   */
  interval?: number;
  /**
   * How long to wait for a line's echo, in ms; then the ping stops with an error.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * The text of every line (a newline is added).
   *
   * @default {`ping ${seq}`}
   */
  text?: string;
  /**
   * The peer's name in the result and error messages.
   *
   * @default {the connection's remote address}
   */
  target?: string;
  /**
   * Stops the ping after the line in progress (Ctrl+C); the result is then not an error.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called for each line whose echo came back.
   *
   * @default {undefined}
   */
  onReply?: (reply: TcpPingReply) => void;
}

/** What {@linkcode tcpPing} measured; also the `--json` output of `tcp_echo_client.ts --count`. */
export interface TcpPingResult {
  /** The peer, as in {@linkcode TcpPingOptions.target}. */
  target: string;
  /** Lines sent. */
  sent: number;
  /** Lines whose echo came back. */
  received: number;
  /** How long the ping ran, in ms. */
  timeMs: number;
  /** Round-trip times in ms, or `null` when nothing came back. */
  rttMs: { min: number; avg: number; max: number; mdev: number } | null;
  /** Why the ping stopped early: the server closed, or an echo did not come back in time. */
  error?: string;
}

/**
 * Pings an echo server over `conn`. TCP does not lose data, so a missing echo
 * means the server is stuck or gone: the ping stops there instead of counting
 * losses. The connection is closed at the end.
 *
 * @param conn A connection to an echo server; the ping owns it and closes it.
 * @param options Count, pacing, timeout and a callback per echo.
 * @returns The counts and round-trip times; `error` says why it stopped early.
 * @throws {Error} If writing a line fails (a server that left gives a disconnect error), or a
 * read fails other than by a disconnect (a disconnect while reading ends the ping with `error`).
 *
 * @example
 * ```ts ignore
 * import { tcpPing } from "./tcp_ping.ts";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 7000 });
 * const result = await tcpPing(conn, { count: 3, interval: 200 });
 * console.log(`${result.received}/${result.sent} echoed, avg ${result.rttMs?.avg} ms`);
 * ```
 */
export async function tcpPing(
  conn: Deno.Conn,
  options: TcpPingOptions = {},
): Promise<TcpPingResult> {
  const { count = 1, interval = 1_000, timeout = 5_000, signal } = options;
  const where = options.target ?? formatAddr(conn.remoteAddr as Deno.NetAddr);
  const encoder = new TextEncoder();
  const reader = new ChunkReader(conn);
  const rtts = new LatencyRecorder();
  let sent = 0;
  let received = 0;
  let failure: string | undefined;
  let pending = new Uint8Array(0);
  const started = performance.now();
  try {
    for (let seq = 1; seq <= count && !signal?.aborted; seq++) {
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
            failure = `${where} closed the connection after ${received} echoes`;
            break;
          }
          const joined = new Uint8Array(pending.length + chunk.length);
          joined.set(pending);
          joined.set(chunk, pending.length);
          pending = joined;
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.BadResource || isDisconnectError(error))) throw error;
        failure = signal?.aborted ? undefined : `no echo for seq=${seq} within ${timeout / 1000} s`;
      } finally {
        clearTimeout(timer);
      }
      if (failure !== undefined || pending.length < line.length) break;
      pending = pending.subarray(line.length);
      const rtt = performance.now() - sentAt;
      received++;
      rtts.record(rtt);
      options.onReply?.({ seq, bytes: line.length, rtt });
      if (seq < count) {
        await sleep(interval, undefined, { signal }).catch(() => {});
      }
    }
  } finally {
    closeQuietly(conn);
  }
  const s = rtts.summary();
  return {
    target: where,
    sent,
    received,
    timeMs: performance.now() - started,
    rttMs: received > 0 ? { min: s.min, avg: s.avg, max: s.max, mdev: s.mdev } : null,
    ...(failure ? { error: failure } : {}),
  };
}

/**
 * The statistics `ping` prints at the end, for a {@linkcode TcpPingResult}.
 *
 * @param result What {@linkcode tcpPing} returned.
 * @returns Two or three lines, without a trailing newline.
 *
 * @example
 * ```ts
 * import { formatTcpPingStatistics } from "./tcp_ping.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatTcpPingStatistics({
 *   target: "127.0.0.1:7000",
 *   sent: 2,
 *   received: 2,
 *   timeMs: 1001.4,
 *   rttMs: { min: 0.1, avg: 0.15, max: 0.2, mdev: 0.05 },
 * });
 * assert.equal(
 *   text,
 *   "--- 127.0.0.1:7000 TCP ping statistics ---\n" +
 *     "2 sent, 2 echoed, time 1001 ms\n" +
 *     "rtt min/avg/max/mdev = 0.100/0.150/0.200/0.050 ms",
 * );
 * ```
 */
export function formatTcpPingStatistics(result: TcpPingResult): string {
  const lines = [
    `--- ${result.target} TCP ping statistics ---`,
    `${result.sent} sent, ${result.received} echoed, time ${result.timeMs.toFixed(0)} ms`,
  ];
  const s = result.rttMs;
  if (s) {
    lines.push(
      `rtt min/avg/max/mdev = ${s.min.toFixed(3)}/${s.avg.toFixed(3)}/${s.max.toFixed(3)}/${
        s.mdev.toFixed(3)
      } ms`,
    );
  }
  return lines.join("\n");
}
