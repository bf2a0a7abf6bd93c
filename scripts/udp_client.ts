/**
 * # UDP client: one-shot, ping, bench and stdin modes
 *
 * The textbook UDP client sends one datagram and blocks forever in
 * `recvfrom` when it, or the reply, is lost. This one treats loss as normal:
 * every wait has a timeout, requests are resent, and replies are matched to
 * requests so duplicates and strays are recognised.
 *
 * - `--message TEXT`: send TEXT as one datagram, wait `--timeout` for the
 *   reply, resend up to `--retries` times, print the reply, exit 0 (1 when no
 *   reply came). Works with any request/response UDP server.
 * - `--ping` (or `--count N`): one probe every `--interval`, each carrying a
 *   sequence number and its send time; one line per reply, then a summary
 *   like `ping`'s with loss, duplicates, reordering and RTT statistics.
 * - `--bench`: datagrams in flight (`--in-flight`) for `--duration`;
 *   round trips per second and RTT percentiles.
 * - otherwise (stdin): each input line is a datagram; each reply is printed.
 *
 * Ping, bench and stdin modes put a 16-byte header (sequence number, send
 * time) in each datagram, so they need an echo server.
 *
 * Run (with `deno task udp-server` in another terminal):
 *
 * ```sh
 * deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts --message hello
 * deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts --count 5 --interval 0.2
 * deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts --bench --in-flight 16
 * printf 'one\ntwo\n' | deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts
 * ```
 *
 * Expected: `--message hello` prints `hello`; the ping prints five
 * `64 bytes from 127.0.0.1:7001: seq=N time=0.1 ms` lines and
 * `5 datagrams transmitted, 5 received, 0% loss, ...`; the pipe prints `one`, `two`.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { connectOptions, parseCliOrExit } from "../lib/cli/cli.ts";
import { benchOptions, withClientCpu } from "../lib/load/bench_options.ts";
import { runDatagramLoad } from "../lib/load/datagram_load.ts";
import {
  type DatagramReply,
  DatagramRequester,
  DatagramTimeoutError,
} from "../lib/udp/datagram_requester.ts";
import {
  decodeEchoProbe,
  ECHO_PROBE_HEADER_SIZE,
  encodeEchoProbe,
  MAX_UDP_PAYLOAD,
} from "../lib/udp/echo_probe.ts";
import { FrameTooLargeError } from "../lib/framing/frame_errors.ts";
import { LatencyRecorder } from "../lib/load/latency_stats.ts";
import { UnstableNetError } from "../lib/udp/listen_udp.ts";
import { ListenError } from "../lib/net/net_errors.ts";
import { LineDecoderStream } from "../lib/framing/line_decoder.ts";
import { formatAddr, formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { writeAll } from "../lib/io/write_all.ts";

const BENCH = benchOptions({ minSize: ECHO_PROBE_HEADER_SIZE, maxSize: MAX_UDP_PAYLOAD });

const CLI = {
  name: "udp_client.ts",
  summary: "Send UDP datagrams with timeouts and retries: one-shot, ping, bench or stdin lines.",
  usage: [
    "deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts --message TEXT",
    "deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts --ping [--count N]",
    "deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts --bench",
    "printf 'a\\nb\\n' | deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts",
  ],
  options: {
    ...connectOptions(7001),
    message: {
      type: "string",
      short: "m",
      valueName: "TEXT",
      description: "Send TEXT as one datagram, print the reply, exit",
    },
    timeout: {
      type: "number",
      default: 1,
      min: 0.001,
      max: 3600,
      valueName: "SECONDS",
      description: "Wait this long for each reply before resending (ping: before giving up)",
    },
    retries: {
      type: "integer",
      default: 2,
      min: 0,
      max: 100,
      description: "Resend an unanswered datagram this many times (--message and stdin)",
    },
    ping: { type: "boolean", description: "Ping mode: probes at --interval, then a summary" },
    count: {
      type: "integer",
      short: "c",
      min: 1,
      max: 4_294_967_295,
      description: "Ping: stop after N probes (implies --ping; default: until Ctrl+C)",
    },
    interval: {
      type: "number",
      short: "i",
      default: 1,
      min: 0,
      max: 3600,
      valueName: "SECONDS",
      description: "Ping: time between probes",
    },
    ...BENCH,
    bench: {
      ...BENCH.bench,
      description: "Measure round trips/s and latency instead (start the server with --rate 0)",
    },
    size: { ...BENCH.size, description: "Ping and bench: datagram size, 16-byte header included" },
  },
  notes: [
    "Needs --unstable-net (Deno.listenDatagram is unstable); `deno task udp-client` adds it.",
    "Exit codes: 0 ok, 1 no reply (or, ping, no reply at all), 2 usage error.",
    "For an IPv6 server: --host ::1 with --allow-net=[::1].",
    "Ping, bench and stdin datagrams start with a 16-byte header (magic, sequence number,",
    "send time), so they need an echo server; --message sends TEXT bare.",
    "--json prints the ping summary, or the --bench result, as one JSON object.",
    "--bench: udp_echo_server.ts drops datagrams over 10000/s per source by default, which one",
    "client easily exceeds; start it without the limit: deno task udp-server --rate 0",
  ],
} as const;

function parseFlags(args: string[]) {
  return parseCliOrExit(args, CLI).values;
}
/** The parsed flags, typed from `CLI`. */
type Values = ReturnType<typeof parseFlags>;

/** Runs the client from command-line flags and returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const values = parseFlags(args);
  const modes =
    [values.message !== undefined, values.ping || values.count !== undefined, values.bench]
      .filter(Boolean).length;
  if (modes > 1) {
    console.error(
      "error: choose one of --message, --ping/--count and --bench\nRun with --help for usage.",
    );
    return 2;
  }
  const hostname = stripBrackets(values.host);
  try {
    if (values.bench) return await bench(hostname, values);
    if (values.message !== undefined) return await oneShot(hostname, values);
    if (values.ping || values.count !== undefined) return await ping(hostname, values);
    return await lines(hostname, values);
  } catch (error) {
    console.error(`error: ${explainError(error, hostname, values.port)}`);
    return 1;
  }
}

/** Sends the message bare; any datagram from the server is its reply. */
async function oneShot(hostname: string, values: Values): Promise<number> {
  const message = new TextEncoder().encode(values.message);
  if (message.length > MAX_UDP_PAYLOAD) {
    console.error(
      `error: --message is ${message.length} bytes; a UDP datagram holds at most ${MAX_UDP_PAYLOAD}`,
    );
    return 2;
  }
  // One request in flight: every datagram from the server answers it, even
  // a late reply to an earlier try (it is the same request).
  await using requester = new DatagramRequester(
    { hostname, port: values.port },
    { match: () => 0, timeout: values.timeout * 1000, retries: values.retries },
  );
  let reply: DatagramReply;
  try {
    reply = await requester.request(0, message);
  } catch (error) {
    if (!(error instanceof DatagramTimeoutError)) throw error;
    console.error(`error: ${error.message}`);
    return 1;
  }
  const text = new TextDecoder().decode(reply.data);
  await writeStdout(text.endsWith("\n") ? text : text + "\n");
  if (reply.attempts > 1 && !values.quiet) {
    console.error(`(reply after ${reply.attempts} tries, ${reply.elapsed.toFixed(1)} ms)`);
  }
  return 0;
}

/** Counters of a ping run, printed as its summary. */
interface PingCounts {
  transmitted: number;
  received: number;
  duplicates: number;
  reordered: number;
  late: number;
}

async function ping(hostname: string, values: Values): Promise<number> {
  const where = formatHostPort(hostname, values.port);
  const counts: PingCounts = { transmitted: 0, received: 0, duplicates: 0, reordered: 0, late: 0 };
  const rtts = new LatencyRecorder();
  let highestSeq = -1;
  const print = (line: string) => {
    if (!values.quiet && !values.json) console.log(line);
  };
  const rttOf = (data: Uint8Array, receivedAt: number) =>
    receivedAt - (decodeEchoProbe(data)?.sentAt ?? receivedAt);

  await using requester = new DatagramRequester({ hostname, port: values.port }, {
    timeout: values.timeout * 1000,
    retries: 0,
    onUnmatched(kind, data, from, seq) {
      if (kind === "stray") return;
      const rtt = rttOf(data, performance.now());
      if (kind === "duplicate") counts.duplicates++;
      else counts.late++;
      print(
        `${data.length} bytes from ${formatAddr(from)}: seq=${seq} time=${rtt.toFixed(3)} ms ${
          kind === "duplicate" ? "(DUP!)" : "(late)"
        }`,
      );
    },
  });

  // Ctrl+C ends the run early and still prints the summary, like ping.
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSigint);
  const started = performance.now();
  const outstanding = new Set<Promise<void>>();
  print(`UDP PING ${where}: ${values.size} bytes per datagram`);
  try {
    for (let seq = 1; values.count === undefined || seq <= values.count; seq++) {
      if (stop.signal.aborted) break;
      counts.transmitted++;
      const probe = encodeEchoProbe(seq, { size: values.size });
      const done = requester.request(seq, probe, { signal: stop.signal }).then(
        (reply) => {
          counts.received++;
          // A reply is reordered when a later probe's reply came before it.
          const reordered = reply.id < highestSeq;
          if (reordered) counts.reordered++;
          else highestSeq = reply.id;
          const rtt = rttOf(reply.data, reply.receivedAt);
          rtts.record(rtt);
          print(
            `${reply.data.length} bytes from ${formatAddr(reply.from)}: seq=${reply.id} time=${
              rtt.toFixed(3)
            } ms${reordered ? " (reordered)" : ""}`,
          );
        },
        (error) => {
          if (error instanceof DatagramTimeoutError) {
            print(`no reply for seq=${seq} within ${values.timeout * 1000} ms`);
          } else if (!stop.signal.aborted) {
            throw error;
          }
        },
      );
      outstanding.add(done);
      done.finally(() => outstanding.delete(done)).catch(() => {});
      if (values.count !== undefined && seq === values.count) break;
      // An abort (Ctrl+C) ends the pause early; the loop checks the signal next.
      await sleep(values.interval * 1000, undefined, { signal: stop.signal }).catch(() => {});
    }
    // The last probes get their full timeout, as with `ping -c`.
    await Promise.all(outstanding);
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }

  const elapsed = performance.now() - started;
  const lost = counts.transmitted - counts.received;
  const loss = counts.transmitted === 0 ? 0 : (lost / counts.transmitted) * 100;
  const s = rtts.summary();
  if (values.json) {
    console.log(JSON.stringify({
      target: where,
      ...counts,
      lossPercent: Number(loss.toFixed(1)),
      timeMs: elapsed,
      rttMs: rtts.count > 0 ? { min: s.min, avg: s.avg, max: s.max, mdev: s.mdev } : null,
    }));
    return counts.received > 0 ? 0 : 1;
  }
  console.log(`--- ${where} UDP ping statistics ---`);
  console.log(
    `${counts.transmitted} datagrams transmitted, ${counts.received} received, ` +
      `${Number(loss.toFixed(1))}% loss, ${counts.duplicates} duplicates, ` +
      `${counts.reordered} reordered, ${counts.late} late, time ${elapsed.toFixed(0)} ms`,
  );
  if (rtts.count > 0) {
    console.log(
      `rtt min/avg/max/mdev = ${s.min.toFixed(3)}/${s.avg.toFixed(3)}/${s.max.toFixed(3)}/${
        s.mdev.toFixed(3)
      } ms`,
    );
  }
  return counts.received > 0 ? 0 : 1;
}

async function bench(hostname: string, values: Values): Promise<number> {
  const { result, clientCpu } = await withClientCpu(() =>
    runDatagramLoad({
      hostname,
      port: values.port,
      size: values.size,
      inFlight: values["in-flight"],
      duration: values.duration * 1000,
      warmup: values.warmup * 1000,
      timeout: values.timeout * 1000,
    })
  );
  const l = result.latency;
  if (values.json) {
    console.log(JSON.stringify({
      target: formatHostPort(hostname, values.port),
      inFlight: values["in-flight"],
      size: values.size,
      seconds: result.seconds,
      roundTrips: result.roundTrips,
      roundTripsPerSecond: result.roundTripsPerSecond,
      lost: result.lost,
      duplicates: result.duplicates,
      latencyMs: { p50: l.p50, p99: l.p99, max: l.max, avg: l.avg },
      clientCpu,
    }));
  } else {
    console.log(
      `${values["in-flight"]} in flight x ${values.size} B, ${result.seconds} s: ` +
        `${result.roundTripsPerSecond.toFixed(0)} round trips/s, ${result.lost} lost, ` +
        `rtt p50 ${l.p50.toFixed(3)} ms p99 ${l.p99.toFixed(3)} ms max ${l.max.toFixed(3)} ms, ` +
        `client CPU ${(clientCpu * 100).toFixed(0)}%`,
    );
  }
  if (result.lost > 0) {
    console.error(
      `note: ${result.lost} datagrams got no echo within ${values.timeout} s; a rate-limited ` +
        `server drops the excess (udp_echo_server.ts allows 10000/s per source: start it with --rate 0)`,
    );
  }
  if (result.roundTrips === 0) {
    console.error(
      `error: no echo from ${formatHostPort(hostname, values.port)}: is the server running? ` +
        `(if so, it may be dropping for its rate limit: start udp_echo_server.ts with --rate 0)`,
    );
    return 1;
  }
  return 0;
}

/** Sends each stdin line as a datagram and prints the replies, in order. */
async function lines(hostname: string, values: Values): Promise<number> {
  const where = formatHostPort(hostname, values.port);
  await using requester = new DatagramRequester(
    { hostname, port: values.port },
    { timeout: values.timeout * 1000, retries: values.retries },
  );
  if (Deno.stdin.isTerminal()) {
    console.error(`sending to ${where}: type a line and press Enter; Ctrl+D to quit`);
  }
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const input = Deno.stdin.readable.pipeThrough(
    new LineDecoderStream({ maxLineLength: MAX_UDP_PAYLOAD - ECHO_PROBE_HEADER_SIZE }),
  );
  let sent = 0;
  let unanswered = 0;
  // Ctrl+C in the middle of a wait: say how far we got, then stop.
  const onSigint = () => {
    console.error(`interrupted: ${sent} lines sent, ${sent - unanswered} answered`);
    Deno.exit(unanswered > 0 ? 1 : 0);
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    for await (const line of input) {
      const seq = ++sent;
      try {
        const reply = await requester.request(
          seq,
          encodeEchoProbe(seq, { payload: encoder.encode(line) }),
        );
        const probe = decodeEchoProbe(reply.data);
        await writeStdout(decoder.decode(probe?.payload) + "\n");
      } catch (error) {
        if (!(error instanceof DatagramTimeoutError)) throw error;
        unanswered++;
        console.error(`error: line ${seq}: ${error.message}`);
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
  return unanswered > 0 ? 1 : 0;
}

/** Turns errors from binding or sending into advice. */
function explainError(error: unknown, hostname: string, port: number): string {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const where = formatHostPort(hostname, port);
  if (error instanceof Deno.errors.NotCapable) {
    return `permission denied: run with --allow-net=${host} to send to ${where} (and --unstable-net)`;
  }
  if (error instanceof FrameTooLargeError) {
    return `${error.message}: a UDP datagram holds at most ${MAX_UDP_PAYLOAD} bytes, ` +
      `${ECHO_PROBE_HEADER_SIZE} of them our header`;
  }
  // listenUdp's messages already say what to do.
  if (error instanceof UnstableNetError) return error.message;
  if (error instanceof ListenError) {
    // A remote server means binding the wildcard address: both need permission.
    const wildcard = ["0.0.0.0", "::"].includes(error.hostname);
    if (error.cause instanceof Deno.errors.NotCapable && wildcard) {
      const bound = error.hostname === "::" ? "[::]" : error.hostname;
      return `permission denied: run with --allow-net=${bound},${host} to bind ${bound} ` +
        `and send to ${where}`;
    }
    return error.message;
  }
  return `cannot talk to ${where}: ${error instanceof Error ? error.message : String(error)}`;
}

function writeStdout(text: string): Promise<void> {
  return writeAll(Deno.stdout, new TextEncoder().encode(text));
}

if (import.meta.main) Deno.exit(await main());
