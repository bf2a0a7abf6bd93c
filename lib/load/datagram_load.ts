/**
 * A load generator for UDP echo servers: keeps a fixed number of probe
 * datagrams in flight and measures round trips per second and latency.
 *
 * @module
 */

import {
  decodeEchoProbe,
  ECHO_PROBE_HEADER_SIZE,
  encodeEchoProbe,
  MAX_UDP_PAYLOAD,
} from "../udp/echo_probe.ts";
import { listenUdp } from "../udp/listen_udp.ts";
import { LatencyRecorder, type LatencySummary } from "./latency_stats.ts";
import { formatHostPort } from "../net/net_addr.ts";
import { withClientCpu } from "./bench_options.ts";

/** Options for {@linkcode runDatagramLoad}. */
export interface DatagramLoadOptions {
  /**
   * The server's address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The server's port. */
  port: number;
  /**
   * The size of each datagram, in bytes (16 to 65507; the probe header takes 16).
   *
   * @default {64}
   */
  size?: number;
  /**
   * Datagrams in flight: sent but not yet echoed (or given up on).
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
   * How long to run before measuring, in ms.
   *
   * @default {500}
   */
  warmup?: number;
  /**
   * How long to wait for an echo before counting the datagram as lost and
   * sending a fresh one, in ms.
   *
   * @default {1000}
   */
  timeout?: number;
}

/** What {@linkcode runDatagramLoad} measured. */
export interface DatagramLoadResult {
  /** Round trips completed in the measured window. */
  roundTrips: number;
  /** Datagrams sent in the measured window that got no echo within the timeout. */
  lost: number;
  /** The measured window, in seconds. */
  seconds: number;
  /** Round trips per second. */
  roundTripsPerSecond: number;
  /** Round-trip times, in ms. */
  latency: LatencySummary;
  /** Echoes of no outstanding probe (second copies, or echoes of probes written off as lost). */
  duplicates: number;
}

/**
 * Drives a UDP echo server: keeps `inFlight` probes outstanding, sending a
 * new one for each echo, for `warmup + duration` ms.
 *
 * This is a load generator, so it is deliberately leaner than
 * `DatagramRequester` (no timer or promise per datagram): the RTT
 * comes from the send time inside each echoed probe, and one watchdog timer
 * handles loss: a probe without an echo after `timeout` ms is counted as
 * lost and replaced by a fresh one; a late echo of it is ignored. `scripts/bench/bench_udp.ts` relies on this
 * client costing less CPU per round trip than the servers it measures.
 *
 * @param options The server, datagram size, concurrency and duration.
 * @returns The measured figures.
 * @throws {RangeError} If an option is out of range.
 * @throws {TypeError} If the runtime was started without `--unstable-net`.
 *
 * @example
 * ```ts ignore
 * import { runDatagramLoad } from "./datagram_load.ts";
 *
 * const result = await runDatagramLoad({ port: 7001, inFlight: 16, duration: 3000 });
 * console.log(`${result.roundTripsPerSecond.toFixed(0)} round trips/s, p99 ${result.latency.p99} ms`);
 * ```
 */
export async function runDatagramLoad(options: DatagramLoadOptions): Promise<DatagramLoadResult> {
  const size = options.size ?? 64;
  const inFlight = options.inFlight ?? 1;
  const duration = options.duration ?? 5000;
  const warmup = options.warmup ?? 500;
  const timeout = options.timeout ?? 1000;
  if (!Number.isInteger(size) || size < ECHO_PROBE_HEADER_SIZE || size > MAX_UDP_PAYLOAD) {
    throw new RangeError(
      `Cannot run load: size ${size} is not from ${ECHO_PROBE_HEADER_SIZE} to ${MAX_UDP_PAYLOAD}`,
    );
  }
  if (!Number.isInteger(inFlight) || inFlight < 1) {
    throw new RangeError(`Cannot run load: inFlight ${inFlight} is not a positive integer`);
  }
  if (!(duration > 0) || !(warmup >= 0) || !(timeout > 0)) {
    throw new RangeError(
      `Cannot run load: duration ${duration}, warmup ${warmup} or timeout ${timeout} is invalid`,
    );
  }

  const hostname = options.hostname ?? "127.0.0.1";
  const target: Deno.NetAddr = { transport: "udp", hostname, port: options.port };
  // Loopback benchmarks only: bind the loopback of the target's family.
  const socket = listenUdp(hostname.includes(":") ? "::1" : "127.0.0.1", 0);
  const buffer = new Uint8Array(65_536);
  const latency = new LatencyRecorder();
  /** Probes sent and not yet echoed: sequence number → send time. */
  const outstanding = new Map<number, number>();
  const started = performance.now();
  const measureFrom = started + warmup;
  const measureTo = measureFrom + duration;
  let roundTrips = 0;
  let lost = 0;
  let duplicates = 0;
  let nextSeq = 0;

  const sendProbe = () => {
    const seq = nextSeq;
    nextSeq = (nextSeq + 1) >>> 0;
    const sentAt = performance.now();
    outstanding.set(seq, sentAt);
    // A failed send shows up as a missing echo, which the watchdog handles.
    socket.send(encodeEchoProbe(seq, { size, sentAt }), target).catch(() => {});
  };

  const watchdog = setInterval(() => {
    const now = performance.now();
    if (now >= measureTo + timeout) {
      socket.close(); // ends the receive loop even if echoes stopped coming
      return;
    }
    // At most inFlight entries: scanning them all is cheap.
    for (const [seq, sentAt] of outstanding) {
      if (now - sentAt < timeout) continue;
      outstanding.delete(seq);
      if (sentAt >= measureFrom && sentAt < measureTo) lost++;
      if (now < measureTo) sendProbe();
    }
  }, Math.max(1, Math.min(100, timeout / 4)));

  try {
    for (let i = 0; i < inFlight; i++) sendProbe();
    while (outstanding.size > 0) {
      let datagram: Uint8Array;
      try {
        [datagram] = await socket.receive(buffer);
      } catch {
        break; // closed by the watchdog
      }
      const now = performance.now();
      const probe = decodeEchoProbe(datagram);
      if (probe === null) continue;
      if (!outstanding.delete(probe.seq)) {
        duplicates++; // a second copy, or the echo of a probe written off as lost
        continue;
      }
      if (probe.sentAt >= measureFrom && now <= measureTo) {
        roundTrips++;
        latency.record(now - probe.sentAt);
      }
      if (now < measureTo) sendProbe();
    }
  } finally {
    clearInterval(watchdog);
    try {
      socket.close();
    } catch { /* closed by the watchdog */ }
  }

  const seconds = duration / 1000;
  return {
    roundTrips,
    lost,
    seconds,
    roundTripsPerSecond: roundTrips / seconds,
    latency: latency.summary(),
    duplicates,
  };
}

/** What {@linkcode benchDatagrams} measured, with the keys every client's `--bench --json` has. */
export interface DatagramBenchReport {
  /** The server, as `host:port`. */
  target: string;
  /** Probes in flight. */
  inFlight: number;
  /** Datagram size, in bytes. */
  size: number;
  /** The measured window, in seconds. */
  seconds: number;
  /** Round trips in the window. */
  roundTrips: number;
  /** Round trips per second. */
  roundTripsPerSecond: number;
  /** Probes without an echo within the timeout. */
  lost: number;
  /** Echoes of no outstanding probe. */
  duplicates: number;
  /** Round-trip times, in ms. */
  latencyMs: { p50: number; p99: number; max: number; avg: number };
  /** This process's CPU over the run, as a share of one core. */
  clientCpu: number;
}

/**
 * The `--bench` mode of a UDP client: {@linkcode runDatagramLoad} and this
 * process's CPU meanwhile.
 *
 * @param options As for {@linkcode runDatagramLoad}.
 * @returns The figures, ready for `JSON.stringify` or {@linkcode formatDatagramBench}.
 * @throws {RangeError} If an option is out of range.
 * @throws {TypeError} If the runtime was started without `--unstable-net`.
 *
 * @example
 * ```ts ignore
 * import { benchDatagrams, formatDatagramBench } from "./datagram_load.ts";
 *
 * console.log(formatDatagramBench(await benchDatagrams({ port: 7001, inFlight: 16 })));
 * ```
 */
export async function benchDatagrams(options: DatagramLoadOptions): Promise<DatagramBenchReport> {
  const { result, clientCpu } = await withClientCpu(() => runDatagramLoad(options));
  const l = result.latency;
  return {
    target: formatHostPort(options.hostname ?? "127.0.0.1", options.port),
    inFlight: options.inFlight ?? 1,
    size: options.size ?? 64,
    seconds: result.seconds,
    roundTrips: result.roundTrips,
    roundTripsPerSecond: result.roundTripsPerSecond,
    lost: result.lost,
    duplicates: result.duplicates,
    latencyMs: { p50: l.p50, p99: l.p99, max: l.max, avg: l.avg },
    clientCpu,
  };
}

/**
 * One line for a person reading a {@linkcode DatagramBenchReport}.
 *
 * @param report What {@linkcode benchDatagrams} returned.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDatagramBench } from "./datagram_load.ts";
 *
 * const line = formatDatagramBench({
 *   target: "127.0.0.1:7001", inFlight: 16, size: 64, seconds: 3, roundTrips: 90000,
 *   roundTripsPerSecond: 30000, lost: 0, duplicates: 0,
 *   latencyMs: { p50: 0.5, p99: 1, max: 2, avg: 0.5 }, clientCpu: 0.8,
 * });
 * assert.equal(
 *   line,
 *   "16 in flight x 64 B, 3 s: 30000 round trips/s, 0 lost, " +
 *     "rtt p50 0.500 ms p99 1.000 ms max 2.000 ms, client CPU 80%",
 * );
 * ```
 */
export function formatDatagramBench(report: DatagramBenchReport): string {
  const l = report.latencyMs;
  return `${report.inFlight} in flight x ${report.size} B, ${report.seconds} s: ` +
    `${report.roundTripsPerSecond.toFixed(0)} round trips/s, ${report.lost} lost, ` +
    `rtt p50 ${l.p50.toFixed(3)} ms p99 ${l.p99.toFixed(3)} ms max ${l.max.toFixed(3)} ms, ` +
    `client CPU ${(report.clientCpu * 100).toFixed(0)}%`;
}
