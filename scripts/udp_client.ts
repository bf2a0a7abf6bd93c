/**
 * # UDP client: one-shot, ping, bench and stdin modes
 *
 * The textbook UDP client sends one datagram and blocks forever in `recvfrom` when it, or the
 * reply, is lost. This one treats loss as normal: every wait has a timeout, requests are resent,
 * and replies are matched to requests so duplicates and strays are recognised. Modes:
 * `--message TEXT` (one datagram, any request/response server), `--ping`/`--count N` (loss,
 * duplicates, reordering and RTT, like `ping`), `--bench`, and stdin lines; all but `--message`
 * put a 16-byte header (sequence number, send time) in each datagram, so they need an echo server.
 *
 * Run (with `deno task udp-server` in another terminal):
 *
 * ```sh
 * deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_client.ts --message hello
 * ```
 *
 * Try it: `--message hello` prints `hello`; `--count 5 --interval 0.2` prints five
 * `64 bytes from 127.0.0.1:7001: seq=N time=0.1 ms` lines and
 * `5 datagrams transmitted, 5 received, 0% loss, ...`.
 *
 * Built on `Deno.listenDatagram` and `socket.send`/`socket.receive`, wrapped by
 * `DatagramRequester` in lib/udp/datagram_requester.ts (timeouts, resends, matching).
 *
 * @module
 */

import { type CliValues, parseCliOrExit } from "../lib/cli/cli.ts";
import { connectOptions, logLevel } from "../lib/cli/cli_options.ts";
import { Logger } from "../lib/cli/log.ts";
import { allowNetFlag, formatRunCommand } from "../lib/cli/run_command.ts";
import { datagramBenchAdvice } from "../lib/cli/datagram_bench_advice.ts";
import { explainUdpError } from "../lib/cli/explain_udp_error.ts";
import { sendLines } from "../lib/cli/udp_line_session.ts";
import { benchOptions } from "../lib/load/bench_options.ts";
import { benchDatagrams, formatDatagramBench } from "../lib/load/datagram_load.ts";
import { formatUdpPingSummary, udpPing } from "../lib/load/udp_ping.ts";
import {
  type DatagramReply,
  DatagramRequester,
  DatagramTimeoutError,
} from "../lib/udp/datagram_requester.ts";
import { ECHO_PROBE_HEADER_SIZE, MAX_UDP_PAYLOAD } from "../lib/udp/echo_probe.ts";
import { formatAddr, formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { onFirstInterrupt } from "../lib/net/shutdown_signals.ts";
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

type Values = CliValues<typeof CLI.options>;

/** Runs the client from command-line flags and returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
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
    const target = { hostname, port: values.port, headerSize: ECHO_PROBE_HEADER_SIZE };
    console.error(`error: ${explainUdpError(error, target)}`);
    if (error instanceof Deno.errors.NotCapable) {
      console.error(`run: ${formatRunCommand(["--unstable-net", allowNetFlag([values.host])])}`);
    }
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
  logSocket(requester, values);
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

async function ping(hostname: string, values: Values): Promise<number> {
  // Ctrl+C ends the run early and still prints the summary, like ping.
  const stop = new AbortController();
  const stopListening = onFirstInterrupt(() => stop.abort());
  const summary = await udpPing({
    hostname,
    port: values.port,
    count: values.count,
    interval: values.interval * 1000,
    timeout: values.timeout * 1000,
    size: values.size,
    signal: stop.signal,
    onLine: values.quiet || values.json ? undefined : (line) => console.log(line),
  }).finally(stopListening);
  console.log(values.json ? JSON.stringify(summary) : formatUdpPingSummary(summary).join("\n"));
  if (summary.received > 0) return 0;
  if (summary.transmitted > 0) {
    console.error(
      `error: no reply at all: is the server running on ${hostname}:${values.port}?`,
    );
  }
  return 1;
}

async function bench(hostname: string, values: Values): Promise<number> {
  const report = await benchDatagrams({
    hostname,
    port: values.port,
    size: values.size,
    inFlight: values["in-flight"],
    duration: values.duration * 1000,
    warmup: values.warmup * 1000,
    timeout: values.timeout * 1000,
  });
  console.log(values.json ? JSON.stringify(report) : formatDatagramBench(report));
  for (const line of datagramBenchAdvice(report, values.timeout)) console.error(line);
  return report.roundTrips === 0 ? 1 : 0;
}

/** Sends each stdin line as a datagram and prints the replies, in order. */
async function lines(hostname: string, values: Values): Promise<number> {
  const where = formatHostPort(hostname, values.port);
  await using requester = new DatagramRequester(
    { hostname, port: values.port },
    { timeout: values.timeout * 1000, retries: values.retries },
  );
  logSocket(requester, values);
  if (Deno.stdin.isTerminal()) {
    console.error(`sending to ${where}: type a line and press Enter; Ctrl+D to quit`);
  }
  const { unanswered } = await sendLines(requester, Deno.stdin.readable);
  return unanswered > 0 ? 1 : 0;
}

/** `-v`: which local port the replies come back to (what a packet capture shows). */
function logSocket(requester: DatagramRequester, values: Values): void {
  new Logger({ level: logLevel(values) }).debug(
    `sending to ${formatHostPort(requester.target.hostname, requester.target.port)} from ` +
      formatAddr(requester.localAddr),
  );
}

function writeStdout(text: string): Promise<void> {
  return writeAll(Deno.stdout, new TextEncoder().encode(text));
}

if (import.meta.main) Deno.exit(await main());
