/**
 * # Benchmark: WebSocket server vs the runtime's `Deno.upgradeWebSocket`
 *
 * Starts `ws_server.ts` and, in the same run, a bare `Deno.serve` + `Deno.upgradeWebSocket`
 * server (`baselines/ws_echo_baseline.ts`), drives both with the same load from this process,
 * and prints both figures and their ratio for:
 *
 * - many: 50 connections x 16 x 64-byte text messages in flight on `/echo` (echoes/s);
 * - ping-pong: 1 connection, one 64-byte message in flight (round trips/s);
 * - broadcast: 100 connections on `/broadcast`, one sender at most 16 messages ahead of the
 *   slowest of the 99 receivers (deliveries/s).
 *
 * With each figure it prints the CPU used by the server and by this load client: on 2 cores a
 * client near 100% means the figure measures the client, not the server. Each figure is the
 * best of `--rounds` runs, the two servers taking turns.
 *
 * Run: `deno task bench:ws`, or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_ws.ts [--duration 3] [--rounds 2]`
 *
 * @module
 */

import { join } from "node:path";
import { measureCpu, startBenchServer } from "../../lib/load/bench_server.ts";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { runWebSocketLoad } from "../../lib/load/websocket_load.ts";

const CLI = {
  name: "bench_ws.ts",
  summary: "Measure ws_server.ts against Deno.serve + Deno.upgradeWebSocket, in one run.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_ws.ts [options]",
  ],
  options: {
    duration: {
      type: "number",
      default: 3,
      min: 0.5,
      max: 60,
      valueName: "SECONDS",
      description: "Measuring time per figure, server and round",
    },
    rounds: {
      type: "integer",
      default: 2,
      min: 1,
      max: 10,
      description: "Rounds per figure, alternating the servers; the best round counts",
    },
  },
} as const;

const SCRIPTS = join(import.meta.dirname!, "..");
const SERVERS = [
  {
    name: "ours",
    script: join(SCRIPTS, "ws_server.ts"),
    args: ["--port", "0", "--quiet", "--idle-timeout", "0"],
  },
  { name: "runtime", script: join(SCRIPTS, "bench/baselines/ws_echo_baseline.ts"), args: ["0"] },
] as const;

const SHAPES = [
  { name: "many", mode: "echo", connections: 50, inFlight: 16, unit: "echoes/s" },
  { name: "ping-pong", mode: "echo", connections: 1, inFlight: 1, unit: "round trips/s" },
  { name: "broadcast", mode: "broadcast", connections: 100, inFlight: 16, unit: "deliveries/s" },
] as const;

interface Figure {
  value: number;
  serverCpu: number;
  clientCpu: number;
  p99: number;
}

async function measure(
  server: (typeof SERVERS)[number],
  shape: (typeof SHAPES)[number],
  seconds: number,
): Promise<Figure> {
  await using running = await startBenchServer(server.script, [...server.args]);
  const { result, serverCpu, clientCpu } = await measureCpu(running, () =>
    runWebSocketLoad({
      port: running.port,
      mode: shape.mode,
      connections: shape.connections,
      inFlight: shape.inFlight,
      size: 64,
      duration: seconds * 1000,
      warmup: 500,
    }));
  return { value: result.messagesPerSecond, serverCpu, clientCpu, p99: result.latency.p99 };
}

/** Runs every figure and prints a table. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  console.log(
    `# WebSocket: ours vs Deno.upgradeWebSocket (best of ${values.rounds} x ${values.duration} s ` +
      "per figure, 127.0.0.1)",
  );
  for (const shape of SHAPES) {
    // Alternating rounds and keeping each server's best one makes the ratio less sensitive to
    // whatever else the machine runs meanwhile.
    const best: (Figure | undefined)[] = [undefined, undefined];
    for (let round = 0; round < values.rounds; round++) {
      for (const [i, server] of SERVERS.entries()) {
        const figure = await measure(server, shape, values.duration);
        if (!best[i] || figure.value > best[i]!.value) best[i] = figure;
      }
    }
    const [ours, runtime] = best as [Figure, Figure];
    const line = (name: string, f: Figure) =>
      `  ${name.padEnd(8)} ${f.value.toFixed(0).padStart(9)} ${shape.unit.padEnd(14)}` +
      (shape.mode === "echo" ? `p99 ${f.p99.toFixed(3)} ms  ` : "") +
      `server CPU ${(f.serverCpu * 100).toFixed(0)}%  client CPU ${
        (f.clientCpu * 100).toFixed(0)
      }%`;
    console.log(
      `${shape.name}: ${shape.connections} conn x ${shape.inFlight} in flight x 64 B text`,
    );
    console.log(line("ours", ours));
    console.log(line("runtime", runtime));
    console.log(
      `  ratio    ${(ours.value / runtime.value).toFixed(2)}x (target >= ${
        shape.mode === "echo" ? "0.9" : "1.0"
      })`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
