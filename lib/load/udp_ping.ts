/**
 * A `ping` over UDP: one sequence-numbered, timestamped probe every
 * interval, each reply matched to its probe, and the summary `ping` prints:
 * loss, duplicates, reordering, late replies and RTT min/avg/max/mdev.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { DatagramRequester, DatagramTimeoutError } from "../udp/datagram_requester.ts";
import { decodeEchoProbe, encodeEchoProbe } from "../udp/echo_probe.ts";
import { formatAddr, formatHostPort } from "../net/net_addr.ts";
import { LatencyRecorder } from "./latency_stats.ts";

/** Options for {@linkcode udpPing}. */
export interface UdpPingOptions {
  /**
   * The echo server's address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The echo server's port. */
  port: number;
  /**
   * Probes to send; `undefined` pings until `signal` aborts.
   *
   * @default {undefined}
   */
  count?: number;
  /**
   * The pause between probes, in ms.
   *
   * @default {1000}
   */
  interval?: number;
  /**
   * How long to wait for each reply, in ms; a probe is then counted as lost.
   *
   * @default {1000}
   */
  timeout?: number;
  /**
   * Datagram size, the 16-byte probe header included.
   *
   * @default {64}
   */
  size?: number;
  /** Stops sending (Ctrl+C); probes in flight are abandoned and the summary is still returned. */
  signal?: AbortSignal;
  /**
   * Called with one `ping`-style line per event: a reply, a duplicate, a
   * late or reordered reply, a probe without a reply.
   *
   * @default {() => {}}
   */
  onLine?: (line: string) => void;
}

/** What {@linkcode udpPing} counted, as `--json` prints it. */
export interface UdpPingSummary {
  /** The server, as `host:port`. */
  target: string;
  /** Probes sent. */
  transmitted: number;
  /** Probes answered (first copies). */
  received: number;
  /** Extra copies of replies already counted. */
  duplicates: number;
  /** Replies that came after a later probe's reply. */
  reordered: number;
  /** Replies that came after their probe's timeout. */
  late: number;
  /** Lost probes, in percent, one decimal. */
  lossPercent: number;
  /** From the first probe to the end, in ms. */
  timeMs: number;
  /** Round-trip times of the answered probes; `null` when none was. */
  rttMs: { min: number; avg: number; max: number; mdev: number } | null;
}

/**
 * Pings a UDP echo server (such as `udp_echo_server.ts`) with
 * {@linkcode encodeEchoProbe} probes. The last probes get their full
 * timeout, as with `ping -c`.
 *
 * @param options The server, how many probes and how often, and where lines go.
 * @returns The summary.
 * @throws {Deno.errors.NotCapable} Without `--allow-net` for the server.
 * @throws {TypeError} If the runtime was started without `--unstable-net`.
 *
 * @example
 * ```ts ignore
 * import { formatUdpPingSummary, udpPing } from "./udp_ping.ts";
 *
 * const summary = await udpPing({ port: 7001, count: 3, interval: 200, onLine: console.log });
 * console.log(formatUdpPingSummary(summary).join("\n"));
 * ```
 */
export async function udpPing(options: UdpPingOptions): Promise<UdpPingSummary> {
  const hostname = options.hostname ?? "127.0.0.1";
  const timeout = options.timeout ?? 1000;
  const size = options.size ?? 64;
  const print = options.onLine ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const target = formatHostPort(hostname, options.port);
  const counts = { transmitted: 0, received: 0, duplicates: 0, reordered: 0, late: 0 };
  const rtts = new LatencyRecorder();
  let highestSeq = -1;
  const rttOf = (data: Uint8Array, receivedAt: number) =>
    receivedAt - (decodeEchoProbe(data)?.sentAt ?? receivedAt);

  await using requester = new DatagramRequester({ hostname, port: options.port }, {
    timeout,
    retries: 0,
    onUnmatched(kind, data, from, seq) {
      if (kind === "stray") return;
      const rtt = rttOf(data, performance.now());
      if (kind === "duplicate") counts.duplicates++;
      else counts.late++;
      print(
        `${data.length} bytes from ${formatAddr(from)}: seq=${seq} time=${rtt.toFixed(3)} ms ${
          kind === "duplicate" ? "(DUP!)" : "(late)"
        }`,
      );
    },
  });

  const started = performance.now();
  const outstanding = new Set<Promise<void>>();
  print(`UDP PING ${target}: ${size} bytes per datagram`);
  for (let seq = 1; options.count === undefined || seq <= options.count; seq++) {
    if (signal.aborted) break;
    counts.transmitted++;
    const probe = encodeEchoProbe(seq, { size });
    const done = requester.request(seq, probe, { signal }).then(
      (reply) => {
        counts.received++;
        // A reply is reordered when a later probe's reply came before it.
        const reordered = reply.id < highestSeq;
        if (reordered) counts.reordered++;
        else highestSeq = reply.id;
        const rtt = rttOf(reply.data, reply.receivedAt);
        rtts.record(rtt);
        print(
          `${reply.data.length} bytes from ${formatAddr(reply.from)}: seq=${reply.id} time=${
            rtt.toFixed(3)
          } ms${reordered ? " (reordered)" : ""}`,
        );
      },
      (error) => {
        if (error instanceof DatagramTimeoutError) {
          print(`no reply for seq=${seq} within ${timeout} ms`);
        } else if (!signal.aborted) {
          throw error;
        }
      },
    );
    outstanding.add(done);
    done.finally(() => outstanding.delete(done)).catch(() => {});
    if (options.count !== undefined && seq === options.count) break;
    // An abort (Ctrl+C) ends the pause early; the loop checks the signal next.
    await sleep(options.interval ?? 1000, undefined, { signal }).catch(() => {});
  }
  await Promise.all(outstanding);

  const lost = counts.transmitted - counts.received;
  const loss = counts.transmitted === 0 ? 0 : (lost / counts.transmitted) * 100;
  const s = rtts.summary();
  return {
    target,
    ...counts,
    lossPercent: Number(loss.toFixed(1)),
    timeMs: performance.now() - started,
    rttMs: rtts.count > 0 ? { min: s.min, avg: s.avg, max: s.max, mdev: s.mdev } : null,
  };
}

/**
 * The summary lines `ping` prints, for a {@linkcode UdpPingSummary}.
 *
 * @param summary What {@linkcode udpPing} returned.
 * @returns Two lines, or three when some probe was answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatUdpPingSummary } from "./udp_ping.ts";
 *
 * const lines = formatUdpPingSummary({
 *   target: "127.0.0.1:7001", transmitted: 4, received: 3, duplicates: 0, reordered: 0, late: 0,
 *   lossPercent: 25, timeMs: 3004.2, rttMs: { min: 0.1, avg: 0.2, max: 0.3, mdev: 0.05 },
 * });
 * assert.deepEqual(lines, [
 *   "--- 127.0.0.1:7001 UDP ping statistics ---",
 *   "4 datagrams transmitted, 3 received, 25% loss, 0 duplicates, 0 reordered, 0 late, time 3004 ms",
 *   "rtt min/avg/max/mdev = 0.100/0.200/0.300/0.050 ms",
 * ]);
 * ```
 */
export function formatUdpPingSummary(summary: UdpPingSummary): string[] {
  const lines = [
    `--- ${summary.target} UDP ping statistics ---`,
    `${summary.transmitted} ${summary.transmitted === 1 ? "datagram" : "datagrams"} transmitted, ` +
    `${summary.received} received, ` +
    `${summary.lossPercent}% loss, ${summary.duplicates} duplicates, ` +
    `${summary.reordered} reordered, ${summary.late} late, time ${summary.timeMs.toFixed(0)} ms`,
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
