/**
 * # TCP echo client
 *
 * Talks to an echo server four ways:
 *
 * - interactive (stdin is a terminal): type lines, see them come back;
 * - `--message TEXT`: send one line, print the echo, exit 0;
 * - pipe (stdin is a pipe or file): stream stdin to the server and the echo to
 *   stdout byte for byte, then half-close and exit once everything came back;
 * - `--bench`: many connections with messages in flight; prints throughput
 *   and round-trip latency.
 *
 * Run (with `deno task echo-server` in another terminal):
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/tcp_echo_client.ts --message hello
 * head -c 1000000 /dev/urandom | deno run --allow-net=127.0.0.1 scripts/tcp_echo_client.ts | wc -c
 * deno run --allow-net=127.0.0.1 scripts/tcp_echo_client.ts --bench --connections 10 --in-flight 16
 * ```
 *
 * Expected: `--message hello` prints `hello`; the pipe prints `1000000`.
 *
 * Built on `Deno.connect` (`Deno.connectTls` with `--tls`), wrapped by `connectTcp` in
 * lib/tcp/connect_tcp.ts (timeout, advice); `--bench` uses `runEchoLoad` in lib/load/echo_load.ts.
 *
 * @module
 */

import process from "node:process";
import { ChunkReader } from "../lib/io/chunk_reader.ts";
import { connectOptions, parseCliOrExit } from "../lib/cli/cli.ts";
import { ConnectError, connectTcp } from "../lib/tcp/connect_tcp.ts";
import { runEchoLoad } from "../lib/load/echo_load.ts";
import { formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { isDisconnectError } from "../lib/net/net_errors.ts";
import { writeAll } from "../lib/io/write_all.ts";

const CLI = {
  name: "tcp_echo_client.ts",
  summary: "Send data to a TCP echo server and print what comes back.",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/tcp_echo_client.ts [options]",
    "deno run --allow-net=127.0.0.1 --allow-read=tests/fixtures scripts/tcp_echo_client.ts --tls --ca tests/fixtures/ca.crt",
  ],
  options: {
    ...connectOptions(7000),
    message: {
      type: "string",
      short: "m",
      valueName: "TEXT",
      description: "Send TEXT and a newline, print the echo, exit",
    },
    timeout: {
      type: "number",
      default: 5,
      min: 0.001,
      valueName: "SECONDS",
      description: "Give up connecting (and on --message, waiting) after this long",
    },
    retries: {
      type: "integer",
      default: 0,
      min: 0,
      description: "Retry a refused or timed-out connection this many times",
    },
    tls: { type: "boolean", description: "Connect with TLS" },
    ca: {
      type: "string",
      valueName: "FILE",
      description: "Trust this PEM certificate (for a self-signed server)",
    },
    bench: { type: "boolean", description: "Measure throughput and latency instead" },
    connections: {
      type: "integer",
      short: "c",
      default: 1,
      min: 1,
      max: 20_000,
      description: "--bench: connections",
    },
    size: {
      type: "integer",
      short: "s",
      default: 64,
      min: 1,
      max: 16_777_216,
      valueName: "BYTES",
      description: "--bench: message size",
    },
    "in-flight": {
      type: "integer",
      short: "d",
      default: 1,
      min: 1,
      max: 4096,
      description: "--bench: messages in flight per connection",
    },
    duration: {
      type: "number",
      short: "t",
      default: 5,
      min: 0.1,
      max: 600,
      valueName: "SECONDS",
      description: "--bench: measuring time",
    },
    warmup: {
      type: "number",
      default: 0.5,
      min: 0,
      max: 60,
      valueName: "SECONDS",
      description: "--bench: time before measuring",
    },
  },
  notes: [
    "Exit codes: 0 ok, 1 network error or wrong echo, 2 usage error.",
    "Pipe mode starts when stdin is not a terminal: printf 'hi\\n' | deno task echo-client",
  ],
} as const;

/** Runs the client from command-line flags and returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const hostname = stripBrackets(values.host);
  let caCerts: string[] | undefined;
  if (values.ca) {
    try {
      caCerts = [await Deno.readTextFile(values.ca)];
    } catch (error) {
      console.error(`error: cannot read --ca ${values.ca}: ${(error as Error).message}`);
      return 1;
    }
  }
  const target = { hostname, port: values.port, tls: values.tls || caCerts !== undefined, caCerts };

  try {
    if (values.bench) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const result = await runEchoLoad({
        ...target,
        connections: values.connections,
        size: values.size,
        inFlight: values["in-flight"],
        duration: values.duration * 1000,
        warmup: values.warmup * 1000,
      });
      const cpu = process.cpuUsage(cpuBefore);
      const wall = (performance.now() - started) * 1000;
      const l = result.latency;
      console.log(
        `${values.connections} conn x ${
          values["in-flight"]
        } in flight x ${values.size} B, ${result.seconds} s: ` +
          `${result.messagesPerSecond.toFixed(0)} msgs/s, ${
            result.megabytesPerSecond.toFixed(1)
          } MB/s, ` +
          `latency p50 ${l.p50.toFixed(3)} ms p99 ${l.p99.toFixed(3)} ms, ` +
          `client CPU ${((cpu.user + cpu.system) / wall * 100).toFixed(0)}%`,
      );
      return 0;
    }

    const conn = await connectTcp({
      ...target,
      timeout: values.timeout * 1000,
      retries: values.retries,
    });
    if (values.message !== undefined) {
      return await oneShot(conn, values.message, values.timeout * 1000);
    }
    if (Deno.stdin.isTerminal()) {
      console.error(
        `connected to ${
          formatHostPort(hostname, values.port)
        }: type a line and press Enter; Ctrl+D to quit`,
      );
    }
    return await pipe(conn);
  } catch (error) {
    if (error instanceof ConnectError || isDisconnectError(error)) {
      console.error(`error: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

/** Sends one line and waits until as many bytes came back. */
async function oneShot(conn: Deno.Conn, text: string, timeout: number): Promise<number> {
  const sent = new TextEncoder().encode(text + "\n");
  const received = new Uint8Array(sent.length);
  let got = 0;
  // Closing the connection is how a pending read is cancelled.
  const timer = setTimeout(() => conn.close(), timeout);
  try {
    await writeAll(conn, sent);
    const reader = new ChunkReader(conn);
    while (got < sent.length) {
      const chunk = await reader.read();
      if (chunk === null) break;
      const take = chunk.subarray(0, sent.length - got);
      received.set(take, got);
      got += take.length;
    }
  } catch (error) {
    if (!isDisconnectError(error)) throw error;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  const echo = new TextDecoder().decode(received.subarray(0, got));
  if (got < sent.length) {
    console.error(
      `error: got ${got} of ${sent.length} bytes back before the server closed or ${timeout} ms passed`,
    );
    return 1;
  }
  if (echo !== text + "\n") {
    console.error(`error: the echo differs from what was sent: ${JSON.stringify(echo)}`);
    return 1;
  }
  await writeAll(Deno.stdout, received);
  return 0;
}

/**
 * Copies stdin to the server and the server to stdout at the same time.
 * At the end of stdin only our sending side is shut (half-close), so the
 * echoes still in flight can arrive before the server closes.
 */
async function pipe(conn: Deno.Conn): Promise<number> {
  const upload = (async () => {
    const stdin = new ChunkReader(Deno.stdin, { initialSize: 65_536 });
    for (let chunk; (chunk = await stdin.read()) !== null;) await writeAll(conn, chunk);
    await conn.closeWrite();
  })();
  const download = (async () => {
    const reader = new ChunkReader(conn, { initialSize: 65_536 });
    for (let chunk; (chunk = await reader.read()) !== null;) await writeAll(Deno.stdout, chunk);
  })();
  // If the server closes first, a read of stdin may still be pending; the
  // caller exits the process, which ends it.
  upload.catch(() => {});
  try {
    await download;
    return 0;
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

if (import.meta.main) Deno.exit(await main());
