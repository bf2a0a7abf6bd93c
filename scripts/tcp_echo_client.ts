/**
 * # TCP echo client
 *
 * Talks to an echo server in these ways:
 *
 * - interactive (stdin is a terminal): type lines, see them come back;
 * - `--message TEXT`: send one line, print the echo, exit 0;
 * - pipe (stdin is a pipe or file): stream stdin to the server and the echo to
 *   stdout byte for byte, then half-close and exit once everything came back;
 * - `--count N --interval S`: a TCP ping, one line per interval on one
 *   connection, its round-trip time, then a summary (`--json` for a program);
 * - `--bench`: many connections with messages in flight; prints throughput
 *   and round-trip latency (`--json` too).
 *
 * `--hexdump` shows the traffic on stderr the way `ncat -x` does.
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

import { setTimeout as sleep } from "node:timers/promises";
import { ChunkReader } from "../lib/io/chunk_reader.ts";
import { connectOptions, parseCliOrExit } from "../lib/cli/cli.ts";
import { HexDumper } from "../lib/cli/hex_dump.ts";
import { ConnectError, connectTcp, formatRetry } from "../lib/tcp/connect_tcp.ts";
import { benchOptions, connectionsOption, withClientCpu } from "../lib/load/bench_options.ts";
import { runEchoLoad } from "../lib/load/echo_load.ts";
import { LatencyRecorder } from "../lib/load/latency_stats.ts";
import { formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { isDisconnectError } from "../lib/net/net_errors.ts";
import { writeAll } from "../lib/io/write_all.ts";
import { closeQuietly } from "../lib/io/close_quietly.ts";

const CLI = {
  name: "tcp_echo_client.ts",
  summary: "Send data to a TCP echo server and print what comes back.",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/tcp_echo_client.ts [options]",
    "deno run --allow-net=127.0.0.1 scripts/tcp_echo_client.ts --count 5 --interval 0.2",
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
    count: {
      type: "integer",
      min: 1,
      max: 1_000_000,
      description: "TCP ping: send N lines at --interval, one RTT line each, then a summary",
    },
    interval: {
      type: "number",
      short: "i",
      default: 1,
      min: 0,
      max: 3600,
      valueName: "SECONDS",
      description: "TCP ping: time between lines",
    },
    timeout: {
      type: "number",
      default: 5,
      min: 0.001,
      valueName: "SECONDS",
      description: "Give up connecting (and on --message or a ping line, waiting) after this long",
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
    hexdump: {
      type: "boolean",
      short: "x",
      description: "Dump the traffic to stderr (> sent, < received), like ncat -x",
    },
    ...benchOptions(),
    connections: connectionsOption(1),
  },
  notes: [
    "Exit codes: 0 ok, 1 network error or wrong echo (ping: no echo), 2 usage error.",
    "Pipe mode starts when stdin is not a terminal: printf 'hi\\n' | deno task echo-client",
    "--json prints the --bench result, or the --count summary, as one JSON object.",
  ],
} as const;

/** What the client talks to, shared by every mode. */
interface Target {
  hostname: string;
  port: number;
  tls: boolean;
  caCerts: string[] | undefined;
}

/** Runs the client from command-line flags and returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  if (values.bench && values.count !== undefined) {
    console.error("error: choose --bench or --count, not both\nRun with --help for usage.");
    return 2;
  }
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
  const where = formatHostPort(hostname, values.port);
  const dumper = values.hexdump ? new HexDumper() : undefined;

  try {
    if (values.bench) return await bench(target, values);

    const conn = await connectTcp({
      ...target,
      timeout: values.timeout * 1000,
      retries: values.retries,
      onRetry: (error, attempt, delay) => {
        if (!values.quiet) {
          console.error(`warning: ${formatRetry(error, attempt, values.retries, delay)}`);
        }
      },
    });
    if (values.count !== undefined) {
      return await ping(conn, where, {
        count: values.count,
        interval: values.interval * 1000,
        timeout: values.timeout * 1000,
        text: values.message,
        json: values.json,
        quiet: values.quiet,
      });
    }
    if (values.message !== undefined) {
      return await oneShot(conn, values.message, values.timeout * 1000, target.tls, dumper);
    }
    if (Deno.stdin.isTerminal()) {
      console.error(`connected to ${where}: type a line and press Enter; Ctrl+D to quit`);
    }
    return await pipe(conn, target.tls, dumper);
  } catch (error) {
    if (error instanceof ConnectError || isDisconnectError(error)) {
      console.error(`error: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

/** A TLS alert record (content type 21, version 3.x): what a TLS server sends to plain text. */
function looksLikeTlsAlert(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x15 && bytes[1] === 0x03;
}

const TLS_HINT = "the server answered with a TLS alert: it speaks TLS, try --tls " +
  "(and --ca FILE for a self-signed certificate)";

/** Sends one line and waits until as many bytes came back. */
async function oneShot(
  conn: Deno.Conn,
  text: string,
  timeout: number,
  tls: boolean,
  dumper: HexDumper | undefined,
): Promise<number> {
  const sent = new TextEncoder().encode(text + "\n");
  const received = new Uint8Array(sent.length);
  let got = 0;
  // Closing the connection is how a pending read is cancelled.
  const timer = setTimeout(() => conn.close(), timeout);
  try {
    await writeAll(conn, sent);
    dumper?.dump(">", sent);
    const reader = new ChunkReader(conn);
    while (got < sent.length) {
      const chunk = await reader.read();
      if (chunk === null) break;
      dumper?.dump("<", chunk);
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
  const echo = received.subarray(0, got);
  if (!tls && looksLikeTlsAlert(echo)) {
    console.error(`error: ${TLS_HINT}`);
    return 1;
  }
  if (got < sent.length) {
    console.error(
      `error: got ${got} of ${sent.length} bytes back before the server closed or ${timeout} ms passed`,
    );
    return 1;
  }
  if (new TextDecoder().decode(echo) !== text + "\n") {
    console.error(
      `error: the echo differs from what was sent: ${
        JSON.stringify(new TextDecoder().decode(echo))
      }`,
    );
    return 1;
  }
  await writeAll(Deno.stdout, received);
  return 0;
}

/**
 * Copies stdin to the server and the server to stdout at the same time.
 * At the end of stdin (or on Ctrl+C) only our sending side is shut
 * (half-close), so the echoes still in flight can arrive before the server
 * closes.
 */
async function pipe(conn: Deno.Conn, tls: boolean, dumper: HexDumper | undefined): Promise<number> {
  const upload = (async () => {
    const stdin = new ChunkReader(Deno.stdin, { initialSize: 65_536 });
    for (let chunk; (chunk = await stdin.read()) !== null;) {
      await writeAll(conn, chunk);
      dumper?.dump(">", chunk);
    }
    await conn.closeWrite();
  })();
  let first = true;
  const download = (async () => {
    const reader = new ChunkReader(conn, { initialSize: 65_536 });
    for (let chunk; (chunk = await reader.read()) !== null;) {
      dumper?.dump("<", chunk);
      if (first && !tls && looksLikeTlsAlert(chunk)) console.error(`warning: ${TLS_HINT}`);
      first = false;
      await writeAll(Deno.stdout, chunk);
    }
  })();
  // If the server closes first, a read of stdin may still be pending; the
  // caller exits the process, which ends it.
  upload.catch(() => {});
  // Ctrl+C: stop sending and let the echoes of what was sent arrive, as at the end of stdin;
  // the terminal and `deno task` may both deliver the keypress, so act once.
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    conn.closeWrite().catch(() => {});
    setTimeout(() => closeQuietly(conn), 1_000);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    await download;
    return 0;
  } catch (error) {
    if (interrupted && error instanceof Deno.errors.BadResource) return 0;
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    closeQuietly(conn);
  }
}

interface PingOptions {
  count: number;
  interval: number;
  timeout: number;
  text: string | undefined;
  json: boolean;
  quiet: boolean;
}

/**
 * TCP ping: one line per `interval` on one connection, timing each until its whole echo is
 * back. TCP does not lose data, so a missing echo means the server is stuck or gone: the ping
 * stops there instead of counting losses.
 */
async function ping(conn: Deno.Conn, where: string, options: PingOptions): Promise<number> {
  const encoder = new TextEncoder();
  const reader = new ChunkReader(conn);
  const rtts = new LatencyRecorder();
  const stop = new AbortController();
  let stopped = false;
  const onInterrupt = () => {
    stopped = true;
    stop.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const print = (line: string) => {
    if (!options.quiet && !options.json) console.log(line);
  };
  let sent = 0;
  let received = 0;
  let failure: string | undefined;
  let pending = new Uint8Array(0);
  const started = performance.now();
  print(`TCP PING ${where}`);
  try {
    for (let seq = 1; seq <= options.count && !stopped; seq++) {
      const line = encoder.encode(`${options.text ?? `ping ${seq}`}\n`);
      const sentAt = performance.now();
      await writeAll(conn, line);
      sent++;
      // Read until this line's bytes are all back (echoes come back in order).
      const timer = setTimeout(() => closeQuietly(conn), options.timeout);
      try {
        while (pending.length < line.length) {
          const chunk = await reader.read();
          if (chunk === null) {
            failure = `${where} closed the connection after ${received} echoes`;
            break;
          }
          const joined = new Uint8Array(pending.length + chunk.length);
          joined.set(pending);
          joined.set(chunk, pending.length);
          pending = joined;
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.BadResource || isDisconnectError(error))) throw error;
        failure = stopped ? undefined : `no echo for seq=${seq} within ${options.timeout / 1000} s`;
      } finally {
        clearTimeout(timer);
      }
      if (failure !== undefined || pending.length < line.length) break;
      pending = pending.subarray(line.length);
      const rtt = performance.now() - sentAt;
      received++;
      rtts.record(rtt);
      print(`${line.length} bytes from ${where}: seq=${seq} time=${rtt.toFixed(3)} ms`);
      if (seq < options.count) {
        await sleep(options.interval, undefined, { signal: stop.signal }).catch(() => {});
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    closeQuietly(conn);
  }
  const elapsed = performance.now() - started;
  const s = rtts.summary();
  if (options.json) {
    console.log(JSON.stringify({
      target: where,
      sent,
      received,
      timeMs: elapsed,
      rttMs: received > 0 ? { min: s.min, avg: s.avg, max: s.max, mdev: s.mdev } : null,
      ...(failure ? { error: failure } : {}),
    }));
  } else {
    if (failure) console.error(`error: ${failure}`);
    console.log(`--- ${where} TCP ping statistics ---`);
    console.log(`${sent} sent, ${received} echoed, time ${elapsed.toFixed(0)} ms`);
    if (received > 0) {
      console.log(
        `rtt min/avg/max/mdev = ${s.min.toFixed(3)}/${s.avg.toFixed(3)}/${s.max.toFixed(3)}/${
          s.mdev.toFixed(3)
        } ms`,
      );
    }
  }
  return failure === undefined && received > 0 ? 0 : 1;
}

interface BenchValues {
  connections: number;
  size: number;
  "in-flight": number;
  duration: number;
  warmup: number;
  json: boolean;
}

async function bench(target: Target, values: BenchValues): Promise<number> {
  const { result, clientCpu } = await withClientCpu(() =>
    runEchoLoad({
      ...target,
      connections: values.connections,
      size: values.size,
      inFlight: values["in-flight"],
      duration: values.duration * 1000,
      warmup: values.warmup * 1000,
    })
  );
  const l = result.latency;
  if (values.json) {
    console.log(JSON.stringify({
      target: formatHostPort(target.hostname, target.port),
      connections: values.connections,
      inFlight: values["in-flight"],
      size: values.size,
      seconds: result.seconds,
      messages: result.messages,
      messagesPerSecond: result.messagesPerSecond,
      megabytesPerSecond: result.megabytesPerSecond,
      latencyMs: { p50: l.p50, p99: l.p99, max: l.max, avg: l.avg },
      clientCpu,
    }));
    return 0;
  }
  console.log(
    `${values.connections} conn x ${values["in-flight"]} in flight x ${values.size} B, ` +
      `${result.seconds} s: ${result.messagesPerSecond.toFixed(0)} msgs/s, ` +
      `${result.megabytesPerSecond.toFixed(1)} MB/s, ` +
      `latency p50 ${l.p50.toFixed(3)} ms p99 ${l.p99.toFixed(3)} ms, ` +
      `client CPU ${(clientCpu * 100).toFixed(0)}%`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
