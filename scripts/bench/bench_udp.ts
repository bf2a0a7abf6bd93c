/**
 * # Benchmark: UDP echo round trips, ours against the bare runtime
 *
 * Starts `scripts/udp_echo_server.ts` and the bare `Deno.listenDatagram`
 * echo (`scripts/bench/baselines/udp_echo_baseline.ts`) as subprocesses on
 * ephemeral ports, drives both with the same load from this process, and
 * prints round trips per second for each, their ratio, and the CPU used by
 * each server and by this load client. Two scenarios, 64-byte datagrams:
 * ping-pong (one in flight) and 16 in flight. The two servers take turns in
 * short runs (alternating which goes first), and the median run of each is
 * reported: on a shared 2-core machine, bursts of outside load hit single
 * runs, and the median of interleaved runs shrugs them off.
 *
 * Our server runs with `--rate 0`, the per-source limit off, as the README
 * tells users to start it for `udp_client.ts --bench`: its default of
 * 10000/s would cap a single-source benchmark and count the drops as lost.
 *
 * Run (about 45 s, loopback only):
 *
 * ```sh
 * deno run --unstable-net --allow-net=127.0.0.1 --allow-run scripts/bench/bench_udp.ts
 * ```
 *
 * Expected: lines like
 * `udp ping-pong (1 in flight, 64 B): ours 30012 rt/s, baseline 29876 rt/s, ratio 1.00`.
 *
 * @module
 */

import { join } from "node:path";
import process from "node:process";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { runDatagramLoad } from "../../lib/load/datagram_load.ts";
import { readProcessUsage } from "../../lib/load/process_usage.ts";
import { parseListeningLine } from "../../lib/net/net_addr.ts";

const CLI = {
  name: "bench_udp.ts",
  summary: "UDP echo round trips/s: our server against the bare listenDatagram echo.",
  usage: [
    "deno run --unstable-net --allow-net=127.0.0.1 --allow-run scripts/bench/bench_udp.ts",
  ],
  options: {
    duration: {
      type: "number",
      short: "t",
      default: 1.5,
      min: 0.5,
      max: 20,
      valueName: "SECONDS",
      description: "Measuring time per run",
    },
    rounds: {
      type: "integer",
      default: 5,
      min: 1,
      max: 15,
      description: "Runs per server and scenario (the median is reported)",
    },
  },
} as const;

const SCRIPTS_DIR = join(import.meta.dirname!, "..");

/** A server subprocess and the port it listens on. */
interface Server {
  name: string;
  child: Deno.ChildProcess;
  port: number;
}

async function startServer(name: string, script: string, args: string[]): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--unstable-net", "--allow-net=127.0.0.1", join(SCRIPTS_DIR, script), ...args],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let port: number | undefined;
  let pending = "";
  while (port === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot start ${name}: it exited before listening`);
    const lines = (pending + value).split("\n");
    pending = lines.pop()!; // an unfinished line waits for its end
    for (const line of lines) port ??= parseListeningLine(line)?.port;
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return { name, child, port };
}

async function stopServer(server: Server): Promise<void> {
  server.child.kill("SIGTERM");
  await server.child.status;
}

/** One measured run against one server. */
interface Run {
  roundTripsPerSecond: number;
  p50: number;
  p99: number;
  lost: number;
  serverCpu: number;
  clientCpu: number;
  /** Server CPU time per round trip, in µs: less noisy than the rate on a busy machine. */
  serverMicrosPerRoundTrip: number;
}

async function measure(server: Server, inFlight: number, duration: number): Promise<Run> {
  const serverBefore = await readProcessUsage(server.child.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const result = await runDatagramLoad({
    port: server.port,
    size: 64,
    inFlight,
    duration: duration * 1000,
    warmup: 500,
    timeout: 1000,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const serverAfter = await readProcessUsage(server.child.pid);
  const serverSeconds = serverAfter.cpuSeconds - serverBefore.cpuSeconds;
  return {
    serverMicrosPerRoundTrip: serverSeconds / Math.max(1, result.roundTrips) * 1e6,
    roundTripsPerSecond: result.roundTripsPerSecond,
    p50: result.latency.p50,
    p99: result.latency.p99,
    lost: result.lost,
    serverCpu: serverSeconds / wallSeconds * 100,
    clientCpu: (client.user + client.system) / 1e6 / wallSeconds * 100,
  };
}

/** The run with the median rate (the upper one of the middle two for an even count). */
function median(runs: Run[]): Run {
  const sorted = [...runs].sort((x, y) => x.roundTripsPerSecond - y.roundTripsPerSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function describe(run: Run): string {
  return `${run.roundTripsPerSecond.toFixed(0)} rt/s (p50 ${run.p50.toFixed(3)} ms, p99 ${
    run.p99.toFixed(3)
  } ms, lost ${run.lost}, server CPU ${run.serverCpu.toFixed(0)}% = ${
    run.serverMicrosPerRoundTrip.toFixed(1)
  } us/rt, client CPU ${run.clientCpu.toFixed(0)}%)`;
}

/** Runs the benchmark; returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  if (typeof Deno.listenDatagram !== "function") {
    console.error("error: the load client needs UDP sockets: run with --unstable-net");
    return 1;
  }
  const ours = await startServer("ours", "udp_echo_server.ts", [
    "--port",
    "0",
    "--quiet",
    "--rate",
    "0",
  ]);
  const baseline = await startServer("baseline", "bench/baselines/udp_echo_baseline.ts", ["0"]);
  const summary: string[] = [];
  console.log(
    `# UDP echo: ours vs bare listenDatagram echo (${values.duration} s per run, ` +
      `median of ${values.rounds}, 127.0.0.1)`,
  );
  try {
    for (const inFlight of [1, 16]) {
      const label = inFlight === 1
        ? "udp ping-pong (1 in flight, 64 B)"
        : `udp ${inFlight} in flight (64 B)`;
      const runs = new Map<Server, Run[]>([[ours, []], [baseline, []]]);
      for (let round = 0; round < values.rounds; round++) {
        // Alternate which server goes first, so drift affects both alike.
        const order = round % 2 === 0 ? [ours, baseline] : [baseline, ours];
        for (const server of order) {
          const run = await measure(server, inFlight, values.duration);
          console.log(`${label}, ${server.name}, round ${round + 1}: ${describe(run)}`);
          runs.get(server)!.push(run);
        }
      }
      const a = median(runs.get(ours)!);
      const b = median(runs.get(baseline)!);
      summary.push(
        `${label}: ours ${a.roundTripsPerSecond.toFixed(0)} rt/s, baseline ${
          b.roundTripsPerSecond.toFixed(0)
        } rt/s, ratio ${
          (a.roundTripsPerSecond / b.roundTripsPerSecond).toFixed(2)
        }x (target >= 0.9); ` +
          `server CPU ${a.serverMicrosPerRoundTrip.toFixed(1)} vs ${
            b.serverMicrosPerRoundTrip.toFixed(1)
          } us/rt; ` +
          `client CPU ${a.clientCpu.toFixed(0)}% vs ${b.clientCpu.toFixed(0)}%`,
      );
    }
  } finally {
    await Promise.all([stopServer(ours), stopServer(baseline)]);
  }
  console.log("");
  for (const line of summary) console.log(line);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
