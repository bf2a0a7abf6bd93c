/**
 * # Benchmark: past one core and one machine
 *
 * Two comparisons, each measured side by side in one run:
 *
 * - workers: `tcp_echo_server.ts` and `chat_server.ts` with `--workers 1` and `--workers N`
 *   (N = cores, at least 2) under the same load: messages (or deliveries) per second, the
 *   server's CPU per message, and the load client's CPU. On a 2-core machine the load client
 *   takes one core, so N workers cannot show their full speed-up here: compare CPU per
 *   message, and read the README for the scaling to expect on more cores.
 * - redis: one chat room of `--clients` clients on one server, on one server through Redis,
 *   and spread over two servers through Redis: deliveries per second and p99 latency, with the
 *   CPU of the chat servers and of redis-server. Skipped, with a note, without redis-server.
 *
 * Run: `deno task bench:scale`, or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read scripts/bench/bench_scale.ts [--duration 2]`
 *
 * @module
 */

import { join } from "node:path";
import process from "node:process";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { type BenchServer, measureCpu, startBenchServer } from "../../lib/load/bench_server.ts";
import { runEchoLoad } from "../../lib/load/echo_load.ts";
import { readProcessUsage } from "../../lib/load/process_usage.ts";
import { hasRedisServer, startRedisServer } from "../../lib/load/redis_server_process.ts";
import { FanOutLoad } from "./bench_chat.ts";

const CLI = {
  name: "bench_scale.ts",
  summary: "Measure --workers 1 against N, and one chat room on one server against two over Redis.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-run --allow-read scripts/bench/bench_scale.ts [options]",
  ],
  options: {
    duration: {
      type: "number",
      default: 2,
      min: 0.5,
      max: 60,
      valueName: "SECONDS",
      description: "Measuring time per figure",
    },
    workers: {
      type: "integer",
      default: Math.max(2, navigator.hardwareConcurrency),
      min: 2,
      max: 64,
      description: "N, the workers compared with one",
    },
    clients: { type: "integer", default: 100, min: 2, max: 1000, description: "Chat clients" },
    only: {
      type: "string",
      multiple: true,
      valueName: "workers|redis",
      description: "Run only these sections",
    },
  },
} as const;

const SCRIPTS = join(import.meta.dirname!, "..");
const LIB = join(import.meta.dirname!, "..", "..", "lib");
/** --workers needs reusePort (unstable) and read access to the code each worker loads. */
const WORKER_FLAGS = ["--unstable-net", "--allow-net=127.0.0.1", `--allow-read=${SCRIPTS},${LIB}`];
const CHAT_ARGS = [
  "--port",
  "0",
  "--http-port",
  "0",
  "--quiet",
  "--flood-rate",
  "1000000",
  "--flood-burst",
  "1000000",
];
/** Each client waits for its own join notice: then it is in the room on every server. */
const JOINED = (nick: string) => `*** ${nick} joined #lobby`;

/** One row of a table. */
interface Row {
  name: string;
  perSecond: number;
  p99: number;
  /** CPU of the servers (and redis-server), as a share of one core. */
  serverCpu: number;
  clientCpu: number;
}

function formatRow(row: Row, unit: string): string {
  const usPerMessage = row.perSecond > 0 ? (row.serverCpu / row.perSecond) * 1e6 : 0;
  return `  ${row.name.padEnd(24)} ${row.perSecond.toFixed(0).padStart(8)} ${unit}  ` +
    `p99 ${row.p99.toFixed(2).padStart(6)} ms  server CPU ${(row.serverCpu * 100).toFixed(0)}% ` +
    `(${usPerMessage.toFixed(1)} us/${unit === "msgs/s" ? "msg" : "delivery"})  ` +
    `client CPU ${(row.clientCpu * 100).toFixed(0)}%`;
}

async function echoRow(name: string, workers: number, seconds: number): Promise<Row> {
  await using server = await startBenchServer(
    join(SCRIPTS, "tcp_echo_server.ts"),
    ["--port", "0", "--quiet", "--workers", String(workers)],
    { denoFlags: WORKER_FLAGS },
  );
  const { result, serverCpu, clientCpu } = await measureCpu(server, () =>
    runEchoLoad({
      port: server.port,
      connections: 100,
      inFlight: 16,
      size: 64,
      duration: seconds * 1000,
    }));
  return {
    name,
    perSecond: result.messagesPerSecond,
    p99: result.latency.p99,
    serverCpu,
    clientCpu,
  };
}

/**
 * Drives one chat room spread over `servers` (client i on server i % n) and measures the CPU
 * of every process in `pids` (the servers and redis-server).
 */
async function fanOutRow(
  name: string,
  servers: BenchServer[],
  pids: number[],
  clients: number,
  seconds: number,
): Promise<Row> {
  const load = new FanOutLoad(clients, 100, JOINED);
  try {
    await load.connect(servers.map((server) => server.port));
    const cpu = async () => {
      let total = 0;
      for (const pid of pids) total += (await readProcessUsage(pid)).cpuSeconds;
      return total;
    };
    const before = await cpu();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    const measured = await load.run(seconds * 1000);
    const wall = (performance.now() - started) / 1000;
    const serverSeconds = (await cpu()) - before;
    const client = process.cpuUsage(clientBefore);
    return {
      name,
      perSecond: load.deliveries / measured,
      p99: load.latency.summary().p99,
      serverCpu: serverSeconds / wall,
      clientCpu: (client.user + client.system) / 1e6 / wall,
    };
  } finally {
    load.close();
  }
}

async function chatWorkersRow(
  name: string,
  workers: number,
  clients: number,
  seconds: number,
): Promise<Row> {
  await using server = await startBenchServer(
    join(SCRIPTS, "chat_server.ts"),
    [...CHAT_ARGS, "--workers", String(workers)],
    { denoFlags: WORKER_FLAGS },
  );
  return await fanOutRow(name, [server], [server.pid], clients, seconds);
}

async function benchWorkers(n: number, clients: number, seconds: number): Promise<void> {
  console.log(
    `# Workers: 1 vs ${n} on ${navigator.hardwareConcurrency} cores (${seconds} s each, 127.0.0.1)`,
  );
  console.log("  echo: 100 connections x 16 x 64-byte messages in flight");
  for (const workers of [1, n]) {
    console.log(formatRow(await echoRow(`--workers ${workers}`, workers, seconds), "msgs/s"));
  }
  console.log(`  chat: ${clients} clients in one room, 100 messages in flight`);
  for (const workers of [1, n]) {
    console.log(
      formatRow(
        await chatWorkersRow(`--workers ${workers}`, workers, clients, seconds),
        "deliveries/s",
      ),
    );
  }
}

async function benchRedis(clients: number, seconds: number): Promise<void> {
  console.log(
    `# Redis: one room of ${clients} clients, 100 messages in flight (${seconds} s each)`,
  );
  if (!(await hasRedisServer())) {
    console.log("  skipped: redis-server is not installed (Debian: apt-get install redis-server)");
    return;
  }
  {
    await using one = await startBenchServer(join(SCRIPTS, "chat_server.ts"), CHAT_ARGS);
    console.log(
      formatRow(await fanOutRow("one server", [one], [one.pid], clients, seconds), "deliveries/s"),
    );
  }
  {
    await using redis = await startRedisServer();
    await using one = await startBenchServer(join(SCRIPTS, "chat_server.ts"), [
      ...CHAT_ARGS,
      "--redis",
      redis.url,
    ]);
    const row = await fanOutRow(
      "one server + Redis",
      [one],
      [one.pid, redis.pid],
      clients,
      seconds,
    );
    console.log(formatRow(row, "deliveries/s"));
  }
  {
    await using redis = await startRedisServer();
    const args = [...CHAT_ARGS, "--redis", redis.url];
    await using a = await startBenchServer(join(SCRIPTS, "chat_server.ts"), args);
    await using b = await startBenchServer(join(SCRIPTS, "chat_server.ts"), args);
    const row = await fanOutRow(
      "two servers + Redis",
      [a, b],
      [a.pid, b.pid, redis.pid],
      clients,
      seconds,
    );
    console.log(formatRow(row, "deliveries/s"));
  }
}

/**
 * Runs the chosen sections and prints their tables.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const chosen = values.only.length > 0 ? values.only : ["workers", "redis"];
  for (const name of chosen) {
    if (name !== "workers" && name !== "redis") {
      console.error(`error: unknown section '${name}' (known: workers, redis)`);
      return 2;
    }
  }
  if (chosen.includes("workers")) {
    if (Deno.build.os !== "linux") {
      console.log("# Workers: skipped, --workers needs Linux (SO_REUSEPORT)");
    } else {
      await benchWorkers(values.workers, values.clients, values.duration);
    }
  }
  if (chosen.includes("redis")) await benchRedis(values.clients, values.duration);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
