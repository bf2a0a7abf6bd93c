/**
 * # Benchmark: TCP echo server vs the bare read-loop echo
 *
 * Starts `tcp_echo_server.ts` and, in the same run, the bare read-loop echo
 * (`baselines/tcp_echo_baseline.ts`), drives both with the same load from
 * this process, and prints both figures and their ratio for:
 *
 * - bulk: 1 connection, 64 KiB messages, 16 in flight (MB/s);
 * - ping-pong: 1 connection, 64-byte messages, 1 in flight (round trips/s);
 * - many: 100 connections x 16 x 64-byte messages in flight (messages/s);
 * - idle: memory per idle connection (server RSS growth per added
 *   connection, from a third of `--idle` to all of them).
 *
 * With each figure it prints the CPU used by the server and by this load
 * client: on 2 cores a client at 100% means the figure measures the client,
 * so compare the servers' CPU per message (`us/msg`) as well.
 *
 * Run: `deno task bench:echo`, or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_echo.ts [--duration 3] [--idle 4000]`
 *
 * @module
 */

import { join } from "node:path";
import { measureCpu, startBenchServer } from "../../lib/load/bench_server.ts";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { runEchoLoad } from "../../lib/load/echo_load.ts";

const CLI = {
  name: "bench_echo.ts",
  summary: "Measure tcp_echo_server.ts against the bare read-loop echo, in one run.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_echo.ts [options]",
  ],
  options: {
    duration: {
      type: "number",
      default: 3,
      min: 0.5,
      max: 60,
      valueName: "SECONDS",
      description: "Measuring time per figure and server",
    },
    rounds: {
      type: "integer",
      default: 2,
      min: 1,
      max: 10,
      description: "Rounds per figure, alternating the servers; the best of each is kept",
    },
    idle: {
      type: "integer",
      default: 4000,
      min: 0,
      max: 15_000,
      description: "Idle connections for the memory figure (0 skips it)",
    },
  },
} as const;

const SCRIPTS = join(import.meta.dirname!, "..");
const SERVERS = [
  {
    name: "ours",
    script: join(SCRIPTS, "tcp_echo_server.ts"),
    args: ["--port", "0", "--quiet", "--idle-timeout", "0"],
  },
  { name: "baseline", script: join(SCRIPTS, "bench/baselines/tcp_echo_baseline.ts"), args: ["0"] },
] as const;

const SHAPES = [
  { name: "bulk", connections: 1, size: 65_536, inFlight: 16, unit: "MB/s" },
  { name: "ping-pong", connections: 1, size: 64, inFlight: 1, unit: "round trips/s" },
  { name: "many", connections: 100, size: 64, inFlight: 16, unit: "msgs/s" },
] as const;

interface Figure {
  value: number;
  serverCpu: number;
  clientCpu: number;
  cpuPerMessageUs: number;
  p99: number;
}

async function measure(
  server: (typeof SERVERS)[number],
  shape: (typeof SHAPES)[number],
  seconds: number,
): Promise<Figure> {
  await using running = await startBenchServer(server.script, [...server.args]);
  const { result, seconds: wall, serverCpu, serverCpuSeconds, clientCpu } = await measureCpu(
    running,
    () =>
      runEchoLoad({
        port: running.port,
        connections: shape.connections,
        size: shape.size,
        inFlight: shape.inFlight,
        duration: seconds * 1000,
        warmup: 500,
      }),
  );
  return {
    value: shape.unit === "MB/s" ? result.megabytesPerSecond : result.messagesPerSecond,
    serverCpu,
    clientCpu,
    cpuPerMessageUs: serverCpuSeconds * 1e6 / (result.messagesPerSecond * wall),
    p99: result.latency.p99,
  };
}

/**
 * RSS growth per idle connection, as a slope: the growth from count/3 to
 * count connections, divided by the connections added. The first third
 * absorbs one-time costs (heap growth, the first timer tick) that are not
 * per connection.
 */
async function idleMemory(server: (typeof SERVERS)[number], count: number): Promise<number> {
  await using running = await startBenchServer(server.script, [...server.args]);
  const conns: Deno.Conn[] = [];
  const open = async (target: number) => {
    while (conns.length < target) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(200, target - conns.length) },
          () => Deno.connect({ port: running.port }),
        ),
      );
      conns.push(...batch);
      // One round trip each: the server has accepted it and started its handler.
      await Promise.all(batch.map(roundTrip));
    }
  };
  try {
    const first = Math.floor(count / 3);
    await open(first);
    const before = await running.usage();
    await open(count);
    const after = await running.usage();
    return (after.rssBytes - before.rssBytes) / (count - first);
  } finally {
    for (const conn of conns) conn.close();
  }
}

async function roundTrip(conn: Deno.Conn): Promise<void> {
  const byte = new Uint8Array([1]);
  await conn.write(byte);
  if (await conn.read(byte) !== 1) throw new Error("Cannot measure idle memory: no echo");
}

function format(value: number, unit: string): string {
  return `${value >= 1000 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

/** Runs every figure and prints a table. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  console.log(
    `# TCP echo: ours vs bare read loop (best of ${values.rounds} x ${values.duration} s per figure, 127.0.0.1)`,
  );
  for (const shape of SHAPES) {
    // Alternate the servers and keep each one's best round: on a shared
    // 2-core machine a single round can lose a fifth to a neighbour's burst.
    const best: (Figure | undefined)[] = [undefined, undefined];
    for (let round = 0; round < values.rounds; round++) {
      for (const [i, server] of SERVERS.entries()) {
        const figure = await measure(server, shape, values.duration);
        if (!best[i] || figure.value > best[i]!.value) best[i] = figure;
      }
    }
    const [ours, base] = best as [Figure, Figure];
    const line = (name: string, f: Figure) =>
      `  ${name.padEnd(8)} ${format(f.value, shape.unit).padStart(22)}  p99 ${
        f.p99.toFixed(3)
      } ms  ` +
      `server CPU ${(f.serverCpu * 100).toFixed(0)}% (${f.cpuPerMessageUs.toFixed(2)} us/msg)  ` +
      `client CPU ${(f.clientCpu * 100).toFixed(0)}%`;
    console.log(
      `${shape.name}: ${shape.connections} conn x ${shape.inFlight} in flight x ${shape.size} B`,
    );
    console.log(line("ours", ours));
    console.log(line("baseline", base));
    console.log(
      `  ratio    ${(ours.value / base.value).toFixed(2)}x throughput, ` +
        `${
          (base.cpuPerMessageUs / ours.cpuPerMessageUs).toFixed(2)
        }x CPU efficiency (target >= 0.9)`,
    );
  }
  if (values.idle > 0) {
    const [ours, base] = [
      await idleMemory(SERVERS[0], values.idle),
      await idleMemory(SERVERS[1], values.idle),
    ];
    console.log(
      `idle: server RSS growth per idle connection (slope from ${
        Math.floor(values.idle / 3)
      } to ${values.idle})`,
    );
    console.log(`  ours     ${(ours / 1024).toFixed(1)} KB   (target <= 8 KB)`);
    console.log(`  baseline ${(base / 1024).toFixed(1)} KB`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
