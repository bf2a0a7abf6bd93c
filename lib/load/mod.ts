/**
 * Load generators and measurement, for the clients' `--bench` modes, the
 * ping statistics and `scripts/bench/`. Optional: nothing a server needs
 * lives here, and a learner can skip this package.
 *
 * - {@linkcode runEchoLoad} (echo_load.ts), {@linkcode runDatagramLoad}
 *   (datagram_load.ts) and {@linkcode runWebSocketLoad} (websocket_load.ts):
 *   bounded, timed load against a TCP, UDP or WebSocket echo;
 *   {@linkcode benchDatagrams} (datagram_load.ts) and {@linkcode benchWebSocket}
 *   (websocket_bench.ts) wrap the last two as the UDP and WebSocket clients'
 *   `--bench` modes, with their `--json` report.
 * - {@linkcode tcpPing} (tcp_ping.ts) and {@linkcode udpPing} (udp_ping.ts):
 *   `ping` over a TCP or UDP echo, with `ping`-style statistics;
 *   {@linkcode echoBenchReport} (echo_bench_report.ts): an echo bench's JSON
 *   object and summary line.
 * - {@linkcode LatencyRecorder} and {@linkcode percentile}
 *   (latency_stats.ts): round-trip times into p50/p99/max.
 * - {@linkcode startBenchServer} and {@linkcode measureCpu}
 *   (bench_server.ts), {@linkcode readProcessUsage} (process_usage.ts):
 *   spawn a server script, wait for its `listening on` line, read its CPU
 *   time and memory.
 * - {@linkcode startRedisServer} (redis_server_process.ts): a throwaway
 *   redis-server for the benchmarks and the demo.
 *
 * @example
 * ```ts
 * import { LatencyRecorder } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const recorder = new LatencyRecorder();
 * for (const ms of [1, 2, 3]) recorder.record(ms);
 * assert.equal(recorder.summary().p50, 2);
 * ```
 *
 * @module
 */
export * from "./bench_options.ts";
export * from "./bench_server.ts";
export * from "./datagram_load.ts";
export * from "./echo_bench_report.ts";
export * from "./echo_load.ts";
export * from "./latency_stats.ts";
export * from "./process_usage.ts";
export * from "./redis_server_process.ts";
export * from "./tcp_ping.ts";
export * from "./udp_ping.ts";
export * from "./websocket_bench.ts";
export * from "./websocket_load.ts";
