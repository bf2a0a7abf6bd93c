/**
 * What a UDP client's `--bench` tells its user when echoes are missing: the usual cause is
 * `udp_echo_server.ts`'s per-source rate limit, which one benchmarking client easily exceeds.
 *
 * @module
 */

import { formatCount } from "./format_count.ts";

/** The figures of a bench run that {@linkcode datagramBenchAdvice} reads (`benchDatagrams` reports them). */
export interface BenchLossReport {
  /** The server, as `host:port`. */
  target: string;
  /** Round trips measured. */
  roundTrips: number;
  /** Probes without an echo within the timeout. */
  lost: number;
}

/**
 * The stderr lines for a bench run's missing echoes: a `note:` when some probes got none, and an
 * `error:` when none came back at all (then the run failed). Both name the server's rate limit
 * and how to lift it.
 *
 * @param report What the run measured (its target, round trips and lost probes).
 * @param timeout The per-probe timeout the run used, in seconds (`--timeout`).
 * @returns The lines to print, none for a run without loss.
 *
 * @example
 * ```ts
 * import { datagramBenchAdvice } from "./datagram_bench_advice.ts";
 * import assert from "node:assert/strict";
 *
 * const target = "127.0.0.1:7001";
 * assert.deepEqual(datagramBenchAdvice({ target, roundTrips: 900, lost: 0 }, 1), []);
 * const [note] = datagramBenchAdvice({ target, roundTrips: 900, lost: 3 }, 1);
 * assert.match(note!, /^note: 3 datagrams got no echo within 1 s/);
 * const lines = datagramBenchAdvice({ target, roundTrips: 0, lost: 5 }, 1);
 * assert.match(lines[1]!, /^error: no echo from 127\.0\.0\.1:7001/);
 * ```
 */
export function datagramBenchAdvice(report: BenchLossReport, timeout: number): string[] {
  const lines: string[] = [];
  if (report.lost > 0) {
    const lost = formatCount(report.lost, "datagram");
    lines.push(
      `note: ${lost} got no echo within ${timeout} s; a rate-limited server drops the ` +
        "excess (udp_echo_server.ts allows 10000/s per source: start it with --rate 0)",
    );
  }
  if (report.roundTrips === 0) {
    lines.push(
      `error: no echo from ${report.target}: is the server running? ` +
        `(if so, it may be dropping for its rate limit: start udp_echo_server.ts with --rate 0)`,
    );
  }
  return lines;
}
