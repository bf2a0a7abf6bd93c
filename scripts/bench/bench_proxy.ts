/**
 * # Benchmark: what the clean TCP proxy costs
 *
 * Starts the bare read-loop echo (`baselines/tcp_echo_baseline.ts`) and
 * `tcp_proxy.ts` in front of it with no faults, then drives the same echo
 * load from this process directly and through the proxy, alternating, and
 * prints both with their ratio:
 *
 * - ping-pong: 1 connection, 64-byte messages, 1 in flight: the round trip
 *   through the proxy crosses two hops each way instead of one, so about 2x
 *   the direct latency is what a proxy costs at best (target <= ~2x);
 * - bulk: 1 connection, 64 KiB messages, 16 in flight: MB/s echoed (the
 *   proxy moves every byte twice, once each way; target >= 0.8x direct);
 * - stream: one way, 256 KiB writes into a sink
 *   (`baselines/tcp_sink_baseline.ts`) for the measuring time: MB/s.
 *
 * The proxy is a third process on the same cores as the client and the
 * echo: on a 2-core machine the figures include that competition.
 *
 * Run: `deno task bench:proxy`, or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_proxy.ts [--duration 2]`
 *
 * @module
 */

import { join } from "node:path";
import { measureCpu, startBenchServer } from "../../lib/load/bench_server.ts";
import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { type EchoLoadResult, runEchoLoad } from "../../lib/load/echo_load.ts";
import { writeAll } from "../../lib/io/write_all.ts";

const CLI = {
  name: "bench_proxy.ts",
  summary: "Measure tcp_proxy.ts (no faults) against a direct connection, in one run.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-run --allow-read=. scripts/bench/bench_proxy.ts [options]",
  ],
  options: {
    duration: {
      type: "number",
      default: 2,
      min: 0.5,
      max: 60,
      valueName: "SECONDS",
      description: "Measuring time per figure and path",
    },
    rounds: {
      type: "integer",
      default: 2,
      min: 1,
      max: 10,
      description: "Rounds per figure, alternating direct and proxied; the best of each is kept",
    },
  },
} as const;

const SCRIPTS = join(import.meta.dirname!, "..") + "/";

const SHAPES = [
  { name: "ping-pong", size: 64, inFlight: 1 },
  { name: "bulk", size: 65_536, inFlight: 16 },
] as const;

/** Streams into a sink for `seconds`; returns MB/s as the sink counted it. */
async function streamOneWay(port: number, seconds: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const chunk = new Uint8Array(262_144);
    const started = performance.now();
    const until = started + seconds * 1000;
    while (performance.now() < until) await writeAll(conn, chunk);
    await conn.closeWrite();
    const reply = new Uint8Array(32);
    const n = await conn.read(reply);
    const counted = Number(new TextDecoder().decode(reply.subarray(0, n ?? 0)));
    if (!(counted > 0)) throw new Error("Cannot measure the stream: the sink counted nothing");
    return counted / ((performance.now() - started) / 1000) / 1e6;
  } finally {
    conn.close();
  }
}

interface Figure {
  result: EchoLoadResult;
  proxyCpu: number;
}

/** Runs every figure and prints a table. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  await using echo = await startBenchServer(`${SCRIPTS}bench/baselines/tcp_echo_baseline.ts`, [
    "0",
  ]);
  await using proxy = await startBenchServer(`${SCRIPTS}tcp_proxy.ts`, [
    "--port",
    "0",
    "--to",
    `127.0.0.1:${echo.port}`,
    "--quiet",
    "--idle-timeout",
    "0",
  ]);
  console.log(
    `# TCP proxy (no faults) vs direct, bare echo behind both (best of ${values.rounds} x ${values.duration} s, 127.0.0.1)`,
  );
  for (const shape of SHAPES) {
    const best: { direct?: Figure; proxied?: Figure } = {};
    const better = (a: Figure | undefined, b: Figure) =>
      !a || b.result.messagesPerSecond > a.result.messagesPerSecond ? b : a;
    for (let round = 0; round < values.rounds; round++) {
      for (const path of ["direct", "proxied"] as const) {
        const port = path === "direct" ? echo.port : proxy.port;
        const measured = await measureCpu(proxy, () =>
          runEchoLoad({
            port,
            size: shape.size,
            inFlight: shape.inFlight,
            duration: values.duration * 1000,
            warmup: 300,
          }));
        best[path] = better(best[path], { result: measured.result, proxyCpu: measured.serverCpu });
      }
    }
    const direct = best.direct!;
    const proxied = best.proxied!;
    const line = (name: string, f: Figure) => {
      const r = f.result;
      const rate = shape.name === "bulk"
        ? `${r.megabytesPerSecond.toFixed(1)} MB/s`
        : `${r.messagesPerSecond.toFixed(0)} round trips/s`;
      return `  ${name.padEnd(8)} ${rate.padStart(20)}  rtt p50 ${r.latency.p50.toFixed(3)} ms ` +
        `p99 ${r.latency.p99.toFixed(3)} ms${
          name === "proxied" ? `  proxy CPU ${(f.proxyCpu * 100).toFixed(0)}%` : ""
        }`;
    };
    console.log(`${shape.name}: 1 conn x ${shape.inFlight} in flight x ${shape.size} B`);
    console.log(line("direct", direct));
    console.log(line("proxied", proxied));
    if (shape.name === "bulk") {
      const ratio = proxied.result.megabytesPerSecond / direct.result.megabytesPerSecond;
      console.log(`  ratio    ${ratio.toFixed(2)}x direct throughput (target >= 0.8)`);
    } else {
      const ratio = proxied.result.latency.p50 / direct.result.latency.p50;
      console.log(`  ratio    ${ratio.toFixed(2)}x direct latency, p50 (target <= ~2: two hops)`);
    }
  }

  await using sink = await startBenchServer(`${SCRIPTS}bench/baselines/tcp_sink_baseline.ts`, [
    "0",
  ]);
  await using sinkProxy = await startBenchServer(`${SCRIPTS}tcp_proxy.ts`, [
    "--port",
    "0",
    "--to",
    `127.0.0.1:${sink.port}`,
    "--quiet",
  ]);
  const stream = { direct: 0, proxied: 0, proxyCpu: 0 };
  for (let round = 0; round < values.rounds; round++) {
    stream.direct = Math.max(stream.direct, await streamOneWay(sink.port, values.duration));
    const measured = await measureCpu(
      sinkProxy,
      () => streamOneWay(sinkProxy.port, values.duration),
    );
    if (measured.result > stream.proxied) {
      stream.proxied = measured.result;
      stream.proxyCpu = measured.serverCpu;
    }
  }
  console.log("stream: 1 conn, one way, 256 KiB writes into a sink");
  console.log(`  direct   ${stream.direct.toFixed(1).padStart(15)} MB/s`);
  console.log(
    `  proxied  ${stream.proxied.toFixed(1).padStart(15)} MB/s  proxy CPU ${
      (stream.proxyCpu * 100).toFixed(0)
    }%`,
  );
  console.log(
    `  ratio    ${(stream.proxied / stream.direct).toFixed(2)}x direct throughput (target >= 0.8)`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
