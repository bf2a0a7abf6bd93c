/**
 * # Benchmark: chat broadcast fan-out vs a bare broadcast loop
 *
 * Starts `chat_server.ts` (every limit on: flood control, line limit,
 * sanitising, bounded outbound queues) and, in the same run, the bare
 * broadcast loop (`baselines/chat_broadcast_baseline.ts`), puts `--clients`
 * clients (default 100) in one room on each, and drives both with the same
 * load from this process: messages go out round-robin from every client,
 * with at most `--window` messages not yet delivered to everyone; each
 * message reaches the 99 others. It prints deliveries per second, the
 * delivery latency (send to receipt, p50 and p99), the CPU used by each
 * server and by this load client (on 2 cores, a client near 100% means the
 * figure measures the client), and the ratio ours/baseline.
 *
 * The flood limit is raised for the run (`--flood-rate`, `--flood-burst`):
 * at the default 10 lines/s per client, 100 clients could send only 1,000
 * messages/s. The token bucket still runs on every line.
 *
 * Run: `deno task bench:chat`, or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_chat.ts [--duration 3]`
 *
 * @module
 */

import { join } from "node:path";
import process from "node:process";
import { type BenchServer, startBenchServer } from "../../lib/load/bench_server.ts";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { LatencyRecorder, type LatencySummary } from "../../lib/load/latency_stats.ts";

const CLI = {
  name: "bench_chat.ts",
  summary: "Measure chat_server.ts broadcast fan-out against a bare broadcast loop, in one run.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_chat.ts [options]",
  ],
  options: {
    duration: {
      type: "number",
      default: 3,
      min: 0.5,
      max: 60,
      valueName: "SECONDS",
      description: "Measuring time per server",
    },
    clients: {
      type: "integer",
      default: 100,
      min: 2,
      max: 1000,
      description: "Clients in the room",
    },
    window: {
      type: "integer",
      default: 100,
      min: 1,
      max: 10_000,
      description: "Messages in flight (sent, not yet delivered to everyone)",
    },
  },
} as const;

const SCRIPTS = join(import.meta.dirname!, "..");
const SERVERS = [
  {
    name: "ours",
    script: join(SCRIPTS, "chat_server.ts"),
    args: [
      "--port",
      "0",
      "--http-port",
      "0",
      "--quiet",
      "--flood-rate",
      "1000000",
      "--flood-burst",
      "1000000",
    ],
  },
  {
    name: "baseline",
    script: join(SCRIPTS, "bench/baselines/chat_broadcast_baseline.ts"),
    args: ["0"],
  },
] as const;

const LF = 0x0a;
const DIGIT_0 = 0x30;
const LETTER_M = 0x6d;
const SPACE = 0x20;
const WARMUP_MS = 500;
const encoder = new TextEncoder();

interface Figure {
  deliveriesPerSecond: number;
  latency: LatencySummary;
  serverCpu: number;
  clientCpu: number;
}

/**
 * The load: `clients` connections in one room. Message `id` is the text
 * `m<id>`, sent by client `id % clients`; a receiver finds the id by reading
 * the digits before each newline, without decoding the line, so the load
 * client stays cheap.
 */
export class FanOutLoad {
  #conns: Deno.TcpConn[] = [];
  #clients: number;
  #window: number;
  #sentAt = new Float64Array(1 << 20);
  #missing = new Int32Array(1 << 20);
  #nextId = 0;
  #inFlight = 0;
  #measuring = false;
  #stopped = false;
  deliveries = 0;
  latency = new LatencyRecorder();

  /** What tells a client it is in the room: `*** You are NICK.`, or the join notice. */
  #joined: (nick: string) => string;

  constructor(clients: number, window: number, joined = (nick: string) => `*** You are ${nick}.`) {
    this.#clients = clients;
    this.#window = window;
    this.#joined = joined;
  }

  /** Connects every client, client `i` to `ports[i % ports.length]` (one room over servers). */
  async connect(ports: number | number[]): Promise<void> {
    const all = typeof ports === "number" ? [ports] : ports;
    for (let i = 0; i < this.#clients; i += 50) {
      const batch = Array.from(
        { length: Math.min(50, this.#clients - i) },
        (_, k) => this.#join(all[(i + k) % all.length]!, `bench${i + k}`),
      );
      this.#conns.push(...await Promise.all(batch));
    }
    // Every client has its nick; now start reading for good.
    for (const conn of this.#conns) this.#receive(conn).catch(() => {});
  }

  /** Connects, sends the nick, and reads until the server confirms it. */
  async #join(port: number, nick: string): Promise<Deno.TcpConn> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    // Each message is one small write: without this, Nagle's algorithm holds it
    // back until the previous one is acknowledged (up to 40 ms of delayed ACK).
    conn.setNoDelay(true);
    await conn.write(encoder.encode(`${nick}\n`));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.includes(this.#joined(nick))) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`Cannot join as ${nick}: the server closed the connection`);
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    // Joins of later clients are still arriving; reading goes on in #receive.
    return conn;
  }

  /** Sends messages until `window` are in flight. */
  #fill(): void {
    while (!this.#stopped && this.#inFlight < this.#window) {
      const id = this.#nextId++ % this.#sentAt.length;
      this.#sentAt[id] = performance.now();
      this.#missing[id] = this.#clients - 1;
      this.#inFlight++;
      const conn = this.#conns[id % this.#clients]!;
      conn.write(encoder.encode(`m${id}\n`)).catch(() => {});
    }
  }

  async #receive(conn: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(65_536);
    // Bytes of an unfinished line carried over between reads (only its digits matter).
    let carry = new Uint8Array(0);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      let data = buffer.subarray(0, n);
      if (carry.length > 0) {
        const joined = new Uint8Array(carry.length + n);
        joined.set(carry);
        joined.set(data, carry.length);
        data = joined;
      }
      const now = performance.now();
      let lineStart = 0;
      for (let lf = data.indexOf(LF); lf >= 0; lf = data.indexOf(LF, lineStart)) {
        this.#delivered(data, lineStart, lf, now);
        lineStart = lf + 1;
      }
      carry = data.slice(lineStart).slice(-32);
    }
  }

  /** Handles a line `... m<id>`: records its latency and completes it when everyone has it. */
  #delivered(data: Uint8Array, start: number, end: number, now: number): void {
    let id = 0;
    let scale = 1;
    let at = end - 1;
    while (at >= start && data[at]! >= DIGIT_0 && data[at]! <= DIGIT_0 + 9) {
      id += (data[at]! - DIGIT_0) * scale;
      scale *= 10;
      at--;
    }
    // Not a benchmark message (a join notice, say): ignore it.
    if (scale === 1 || at < start + 1 || data[at] !== LETTER_M || data[at - 1] !== SPACE) return;
    if (this.#measuring) {
      this.deliveries++;
      this.latency.record(now - this.#sentAt[id]!);
    }
    if (--this.#missing[id]! === 0) {
      this.#inFlight--;
      this.#fill();
    }
  }

  /** Runs the load: warm-up, then `ms` of measuring. */
  async run(ms: number): Promise<number> {
    this.#fill();
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    this.#measuring = true;
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.#measuring = false;
    this.#stopped = true;
    return (performance.now() - started) / 1000;
  }

  close(): void {
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
}

async function measure(
  server: (typeof SERVERS)[number],
  clients: number,
  window: number,
  seconds: number,
): Promise<Figure> {
  await using running: BenchServer = await startBenchServer(server.script, [...server.args]);
  const load = new FanOutLoad(clients, window);
  try {
    await load.connect(running.port);
    const before = await running.usage();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    const measured = await load.run(seconds * 1000);
    const wall = (performance.now() - started) / 1000;
    const after = await running.usage();
    const client = process.cpuUsage(clientBefore);
    return {
      deliveriesPerSecond: load.deliveries / measured,
      latency: load.latency.summary(),
      serverCpu: (after.cpuSeconds - before.cpuSeconds) / wall,
      clientCpu: (client.user + client.system) / 1e6 / wall,
    };
  } finally {
    load.close();
  }
}

/** Measures both servers and prints a table; returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  console.log(
    `# Chat fan-out: ${values.clients} clients in one room, ${values.window} messages in flight ` +
      `(${values.duration} s per server, 127.0.0.1)`,
  );
  const figures: Figure[] = [];
  for (const server of SERVERS) {
    figures.push(await measure(server, values.clients, values.window, values.duration));
  }
  const [ours, base] = figures as [Figure, Figure];
  const line = (name: string, f: Figure) =>
    `  ${name.padEnd(8)} ${f.deliveriesPerSecond.toFixed(0).padStart(9)} deliveries/s  ` +
    `p50 ${f.latency.p50.toFixed(2)} ms  p99 ${f.latency.p99.toFixed(2)} ms  ` +
    `server CPU ${(f.serverCpu * 100).toFixed(0)}%  client CPU ${(f.clientCpu * 100).toFixed(0)}%`;
  console.log(line("ours", ours));
  console.log(line("baseline", base));
  console.log(
    `  ratio    ${
      (ours.deliveriesPerSecond / base.deliveriesPerSecond).toFixed(2)
    }x deliveries/s ` +
      `(target >= 0.9), p99 ${(ours.latency.p99 / base.latency.p99).toFixed(2)}x`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
