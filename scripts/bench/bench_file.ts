/**
 * # Benchmark: file transfer throughput
 *
 * Sends the same 200 MiB file (random bytes, made in a temporary directory)
 * to `scripts/file_receive.ts` and, as the baseline, from `nc -N` to
 * `nc -l` on the same machine in the same run, and prints MB/s for each
 * (median of the rounds), their ratio, and where the CPU went.
 *
 * Ours does more than `nc`: it hashes every byte with SHA-256 on both sides,
 * writes through a temporary file and flushes it to disk before renaming it
 * into place. The SHA-256 speed of this CPU (one core) is printed too: it is
 * the ceiling for a verified transfer.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run scripts/bench/bench_file.ts
 * ```
 *
 * (`--allow-read`/`--allow-write` for the temporary directory, `--allow-run`
 * for the receiver, `nc` and `cat`.) Takes about 30 s on 2 cores. Expected
 * output ends with lines like `ours (TCP) / nc: 0.12x (medians), 0.15x (best
 * rounds)`. Other work on the machine moves single rounds a lot: compare
 * the ratios within one run.
 *
 * @module
 */

import { join } from "node:path";
import { createHash } from "node:crypto";
import process from "node:process";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { connectTcp } from "../../lib/tcp/connect_tcp.ts";
import { sendFile } from "../../lib/file_transfer/file_sender.ts";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import { readProcessUsage } from "../../lib/load/process_usage.ts";
import { writeRandomFile } from "../../lib/file_transfer/write_random_file.ts";
import { parseListeningLine } from "../../lib/net/net_addr.ts";

const MiB = 1024 * 1024;

const CLI = {
  name: "bench_file.ts",
  summary: "Measure file transfer MB/s against nc piping the same file.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run scripts/bench/bench_file.ts",
  ],
  options: {
    size: {
      type: "integer",
      default: 200,
      min: 1,
      max: 4096,
      valueName: "MIB",
      description: "File size in MiB",
    },
    rounds: {
      type: "integer",
      default: 3,
      min: 1,
      max: 20,
      description: "Transfers per configuration (the median is reported)",
    },
  },
} as const;

/** One configuration's result. */
interface Figure {
  label: string;
  /** The median of the rounds. */
  megabytesPerSecond: number;
  /** The best round: steadier than the median when other work shares the cores. */
  best: number;
  note: string;
}

/** Runs the benchmark; returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const size = values.size * MiB;
  const base = await Deno.makeTempDir({ prefix: "bench_file_" });
  try {
    const source = `${base}/bench.bin`;
    await writeRandomFile(source, size);
    console.log(
      `file transfer: ${values.size} MiB of random bytes over 127.0.0.1, median of ${values.rounds} rounds`,
    );

    const figures: Figure[] = [];
    figures.push(await benchOurs(base, source, size, values.rounds, "TCP", []));
    figures.push(
      await benchOurs(base, source, size, values.rounds, "TCP --no-sync", ["--no-sync"]),
    );
    figures.push(await benchOurs(base, source, size, values.rounds, "TLS", ["--tls"]));
    const nc = await benchNc(base, source, size, values.rounds);
    if (nc) figures.push(nc);
    const hash = hashSpeed(size);

    console.log("");
    for (const figure of figures) {
      console.log(
        `${figure.label.padEnd(30)} ${figure.megabytesPerSecond.toFixed(1).padStart(7)} MB/s ` +
          `(best ${figure.best.toFixed(1)})  ${figure.note}`,
      );
    }
    console.log(
      `${"SHA-256, one core (node:crypto)".padEnd(30)} ${hash.toFixed(1).padStart(7)} MB/s  ` +
        "the ceiling for a verified transfer",
    );
    if (nc) {
      for (const figure of figures.slice(0, -1)) {
        console.log(
          `${figure.label} / nc: ${
            (figure.megabytesPerSecond / nc.megabytesPerSecond).toFixed(2)
          }x (medians), ${(figure.best / nc.best).toFixed(2)}x (best rounds)`,
        );
      }
    } else {
      console.log("nc is not installed: baseline skipped (apt-get install netcat-openbsd)");
    }
    return 0;
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

/** Starts file_receive.ts, sends the file `rounds` times from this process, and reports the median. */
async function benchOurs(
  base: string,
  source: string,
  size: number,
  rounds: number,
  label: string,
  flags: string[],
): Promise<Figure> {
  const dir = `${base}/received`;
  const tls = flags.includes("--tls");
  const fixtures = join(import.meta.dirname!, "..", "..", "tests", "fixtures");
  const receiverArgs = [
    "--port",
    "0",
    "--dir",
    dir,
    "--quiet",
    ...flags.filter((flag) => flag !== "--tls"),
    ...(tls
      ? [
        "--tls-cert",
        join(fixtures, "localhost.crt"),
        "--tls-key",
        join(fixtures, "localhost.key"),
      ]
      : []),
  ];
  const receiver = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read=${dir}${tls ? `,${fixtures}` : ""}`,
      `--allow-write=${dir}`,
      join(import.meta.dirname!, "..", "file_receive.ts"),
      ...receiverArgs,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const port = await readListeningPort(receiver.stdout);
    const caCerts = tls ? [await Deno.readTextFile(join(fixtures, "ca.crt"))] : undefined;
    const rates: number[] = [];
    const receiverBefore = await readProcessUsage(receiver.pid);
    const selfBefore = process.cpuUsage();
    for (let round = 0; round < rounds; round++) {
      const started = performance.now();
      await sendFile(() => connectTcp({ port, tls, caCerts }), source, { name: "bench.bin" });
      const seconds = (performance.now() - started) / 1000;
      rates.push(size / seconds / 1e6);
      await Deno.remove(`${dir}/bench.bin`);
    }
    const receiverCpu = (await readProcessUsage(receiver.pid)).cpuSeconds -
      receiverBefore.cpuSeconds;
    const self = process.cpuUsage(selfBefore);
    const senderCpu = (self.user + self.system) / 1e6;
    const median = medianOf(rates);
    console.log(`  ours ${label}: ${rates.map((rate) => rate.toFixed(1)).join(", ")} MB/s`);
    return {
      label: `ours (${label})`,
      megabytesPerSecond: median,
      best: Math.max(...rates),
      note: `receiver CPU ${(receiverCpu / rounds).toFixed(2)} s, sender CPU ${
        (senderCpu / rounds).toFixed(2)
      } s per file`,
    };
  } finally {
    receiver.kill("SIGINT");
    await receiver.status;
  }
}

/** Pipes the file from `nc -N` to `nc -l` `rounds` times; `null` if nc is missing. */
async function benchNc(
  base: string,
  source: string,
  size: number,
  rounds: number,
): Promise<Figure | null> {
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const out = `${base}/nc.out`;
    let listener;
    try {
      // -v makes nc print the port it picked for port 0.
      listener = new Deno.Command("sh", {
        args: ["-c", `exec nc -v -l 127.0.0.1 0 > '${out}' < /dev/null`],
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    const port = await readNcPort(listener.stderr);
    if (port === null) {
      await listener.status;
      return null;
    }
    const started = performance.now();
    const sender = await new Deno.Command("sh", {
      args: ["-c", `exec nc -N 127.0.0.1 ${port} < '${source}'`],
      stdout: "null",
      stderr: "inherit",
    }).output();
    // Done when the receiving nc has written everything and exited.
    const status = await listener.status;
    const seconds = (performance.now() - started) / 1000;
    if (!sender.success || !status.success || (await Deno.stat(out)).size !== size) {
      throw new Error("Cannot run the nc baseline: nc failed or the copy is incomplete");
    }
    rates.push(size / seconds / 1e6);
    await Deno.remove(out);
  }
  console.log(`  nc: ${rates.map((rate) => rate.toFixed(1)).join(", ")} MB/s`);
  return {
    label: "nc -N | nc -l (no checks)",
    megabytesPerSecond: medianOf(rates),
    best: Math.max(...rates),
    note: "no hash, no temporary file, no fsync",
  };
}

/** Reads the child's stdout until `listening on HOST:PORT`, then keeps draining it. */
async function readListeningPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.getReader();
  const decoder = new LineDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(
        "Cannot start file_receive.ts: it exited before listening (run it by hand to see why)",
      );
    }
    for (const line of decoder.decode(value)) {
      const port = parseListeningLine(line)?.port;
      if (port !== undefined) {
        reader.releaseLock();
        stdout.pipeTo(new WritableStream()).catch(() => {});
        return port;
      }
    }
  }
}

/** Reads nc's stderr until `Listening on HOST PORT`; `null` if nc ended first. */
async function readNcPort(stderr: ReadableStream<Uint8Array>): Promise<number | null> {
  const decoder = new LineDecoder();
  const reader = stderr.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    for (const line of decoder.decode(value)) {
      const port = line.match(/^Listening on \S+ (\d+)$/)?.[1];
      if (port) {
        reader.releaseLock();
        stderr.pipeTo(new WritableStream()).catch(() => {});
        return Number(port);
      }
    }
  }
}

function hashSpeed(size: number): number {
  const chunk = new Uint8Array(MiB);
  crypto.getRandomValues(chunk.subarray(0, 65_536));
  const started = performance.now();
  const hash = createHash("sha256");
  for (let done = 0; done < size; done += chunk.length) hash.update(chunk);
  hash.digest();
  return size / ((performance.now() - started) / 1000) / 1e6;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (import.meta.main) Deno.exit(await main());
