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
 * With `--compression` it also measures a 4 KiB JSON text message on `/echo` (50 x 16) and
 * `/broadcast` (100 connections) three ways in the same run: ours with permessage-deflate (the
 * load client offers it and sends the message compressed; the server inflates each message and
 * compresses each reply, a broadcast once for all receivers), ours with `--no-deflate`, and the
 * runtime's server (which has no compression).
 *
 * With each figure it prints the CPU used by the server and by this load client: on 2 cores a
 * client near 100% means the figure measures the client, not the server. Each figure is the
 * best of `--rounds` runs, the two servers taking turns.
 *
 * Run: `deno task bench:ws`, or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_ws.ts [--duration 3] [--rounds 2] [--compression]`
 *
 * @module
 */

import { join } from "node:path";
import { measureCpu, startBenchServer } from "../../lib/load/bench_server.ts";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { runWebSocketLoad } from "../../lib/load/websocket_load.ts";
import { deflateMessage } from "../../lib/websocket/websocket_deflate.ts";

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
    compression: {
      type: "boolean",
      description: "Also measure a 4 KiB JSON message with permessage-deflate on and off",
    },
    "only-compression": {
      type: "boolean",
      description: "Measure only the --compression figures",
    },
  },
} as const;

const SCRIPTS = join(import.meta.dirname!, "..");
const OURS_ARGS = ["--port", "0", "--quiet", "--idle-timeout", "0"];
const SERVERS = [
  { name: "ours", script: join(SCRIPTS, "ws_server.ts"), args: OURS_ARGS, deflate: false },
  {
    name: "runtime",
    script: join(SCRIPTS, "bench/baselines/ws_echo_baseline.ts"),
    args: ["0"],
    deflate: false,
  },
] as const;

/** The --compression servers: ours with and without permessage-deflate, and the runtime's. */
const COMPRESSION_SERVERS = [
  { name: "deflate", script: join(SCRIPTS, "ws_server.ts"), args: OURS_ARGS, deflate: true },
  {
    name: "no-deflate",
    script: join(SCRIPTS, "ws_server.ts"),
    args: [...OURS_ARGS, "--no-deflate"],
    deflate: true, // offered by the client, declined by the server
  },
  SERVERS[1],
] as const;

type Server = { name: string; script: string; args: readonly string[]; deflate: boolean };

/** A 4 KiB JSON array of chat-like records: text that compresses about as real traffic does. */
function jsonMessage(bytes: number): string {
  const records = [];
  for (let i = 0; JSON.stringify(records).length < bytes; i++) {
    records.push({
      id: 100_000 + i * 37,
      user: `user${(i * 7) % 23}`,
      room: ["lobby", "dev", "random"][i % 3],
      text: `message ${i}: ${["on my way", "sounds good", "see the log", "merged"][i % 4]}`,
      at: 1_764_633_600 + i * 13,
    });
  }
  return JSON.stringify(records).slice(0, bytes - 1) + "]";
}

const COMPRESSION_TEXT = jsonMessage(4096);
const COMPRESSION_SHAPES = [
  { name: "echo", mode: "echo", connections: 50, inFlight: 16, unit: "echoes/s" },
  { name: "broadcast", mode: "broadcast", connections: 100, inFlight: 16, unit: "deliveries/s" },
] as const;

const SHAPES = [
  { name: "many", mode: "echo", connections: 50, inFlight: 16, unit: "echoes/s" },
  { name: "ping-pong", mode: "echo", connections: 1, inFlight: 1, unit: "round trips/s" },
  { name: "broadcast", mode: "broadcast", connections: 100, inFlight: 16, unit: "deliveries/s" },
] as const;

interface Figure {
  value: number;
  compressed: boolean;
  serverCpu: number;
  clientCpu: number;
  p99: number;
}

async function measure(
  server: Server,
  shape: { mode: "echo" | "broadcast"; connections: number; inFlight: number },
  seconds: number,
  text?: string,
): Promise<Figure> {
  await using running = await startBenchServer(server.script, [...server.args]);
  const { result, serverCpu, clientCpu } = await measureCpu(running, () =>
    runWebSocketLoad({
      port: running.port,
      mode: shape.mode,
      connections: shape.connections,
      inFlight: shape.inFlight,
      size: 64,
      text,
      perMessageDeflate: server.deflate,
      duration: seconds * 1000,
      warmup: 500,
    }));
  return {
    value: result.messagesPerSecond,
    compressed: result.compressed,
    serverCpu,
    clientCpu,
    p99: result.latency.p99,
  };
}

function formatFigure(name: string, f: Figure, mode: string, unit: string): string {
  return `  ${name.padEnd(10)} ${f.value.toFixed(0).padStart(9)} ${unit.padEnd(14)}` +
    (mode === "echo" ? `p99 ${f.p99.toFixed(3)} ms  ` : "") +
    `server CPU ${(f.serverCpu * 100).toFixed(0)}%  client CPU ${(f.clientCpu * 100).toFixed(0)}%`;
}

/** Each server's best figure over `rounds`, the servers taking turns. */
async function bestOf(
  servers: readonly Server[],
  shape: { mode: "echo" | "broadcast"; connections: number; inFlight: number },
  rounds: number,
  seconds: number,
  text?: string,
): Promise<Figure[]> {
  // Alternating rounds and keeping each server's best one makes the ratio less sensitive to
  // whatever else the machine runs meanwhile.
  const best: (Figure | undefined)[] = servers.map(() => undefined);
  for (let round = 0; round < rounds; round++) {
    for (const [i, server] of servers.entries()) {
      const figure = await measure(server, shape, seconds, text);
      if (!best[i] || figure.value > best[i]!.value) best[i] = figure;
    }
  }
  return best as Figure[];
}

/** Runs every figure and prints a table. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  console.log(
    `# WebSocket: ours vs Deno.upgradeWebSocket (best of ${values.rounds} x ${values.duration} s ` +
      "per figure, 127.0.0.1)",
  );
  for (const shape of values["only-compression"] ? [] : SHAPES) {
    const [ours, runtime] = await bestOf(SERVERS, shape, values.rounds, values.duration) as [
      Figure,
      Figure,
    ];
    console.log(
      `${shape.name}: ${shape.connections} conn x ${shape.inFlight} in flight x 64 B text`,
    );
    console.log(formatFigure("ours", ours, shape.mode, shape.unit));
    console.log(formatFigure("runtime", runtime, shape.mode, shape.unit));
    console.log(
      `  ratio      ${(ours.value / runtime.value).toFixed(2)}x (target >= ${
        shape.mode === "echo" ? "0.9" : "1.0"
      })`,
    );
  }
  if (values.compression || values["only-compression"]) {
    const bytes = new TextEncoder().encode(COMPRESSION_TEXT);
    const wire = deflateMessage(bytes).length;
    console.log(
      `# permessage-deflate: a ${bytes.length} B JSON text, ${wire} B compressed (level 1)`,
    );
    for (const shape of COMPRESSION_SHAPES) {
      const figures = await bestOf(
        COMPRESSION_SERVERS,
        shape,
        values.rounds,
        values.duration,
        COMPRESSION_TEXT,
      );
      const [on, off] = figures as [Figure, Figure, Figure];
      if (!on.compressed || off.compressed) {
        throw new Error("Cannot compare compression: the servers did not negotiate as expected");
      }
      console.log(`${shape.name}: ${shape.connections} conn x ${shape.inFlight} in flight`);
      for (const [i, server] of COMPRESSION_SERVERS.entries()) {
        console.log(formatFigure(server.name, figures[i]!, shape.mode, shape.unit));
      }
      console.log(`  deflate / no-deflate ${(on.value / off.value).toFixed(2)}x`);
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
