/**
 * Fault-injecting proxies: the parts behind `scripts/tcp_proxy.ts` and
 * `scripts/udp_proxy.ts`.
 *
 * - {@linkcode pipeStream}: one TCP direction with backpressure, a bounded
 *   queue and faults; {@linkcode proxyConnection}: both directions, with
 *   half-close and reset passed on; {@linkcode ProxyRecords}: the TCP
 *   proxy's per-connection records and totals.
 * - {@linkcode StreamFaultSchedule} and {@linkcode DatagramFaultSchedule}:
 *   latency, jitter, bandwidth, slicing; loss, duplication, reordering.
 * - {@linkcode DatagramShaper}: applies a datagram schedule and counts.
 * - {@linkcode SeededRandom}: repeatable runs with `--seed`.
 * - {@linkcode UdpSessionTable}: one bounded, expiring session per client;
 *   {@linkcode UdpProxySessions}: the UDP proxy's sessions, sockets and counts.
 *
 * @example A repeatable loss decision
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramFaultSchedule, SeededRandom } from "./mod.ts";
 *
 * const fates = (seed: number) => {
 *   const random = new SeededRandom(seed);
 *   const schedule = new DatagramFaultSchedule({ loss: 0.5, random: () => random.next() });
 *   return Array.from({ length: 20 }, () => schedule.next().lost);
 * };
 * assert.deepEqual(fates(1), fates(1));
 * ```
 *
 * @module
 */

export * from "./datagram_shaper.ts";
export * from "./fault_schedule.ts";
export * from "./parse_host_port.ts";
export * from "./pipe_stream.ts";
export * from "./proxy_connection.ts";
export * from "./proxy_records.ts";
export * from "./seeded_random.ts";
export * from "./udp_proxy_sessions.ts";
export * from "./udp_session_table.ts";
