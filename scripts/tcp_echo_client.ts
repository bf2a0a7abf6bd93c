/**
 * # TCP echo client
 *
 * Talks to an echo server: type lines and see them come back (a terminal), stream stdin to
 * stdout byte for byte (a pipe), send one `--message`, ping with `--count N --interval S`, or
 * load it with `--bench`; `--hexdump` shows the traffic the way `ncat -x` does.
 *
 * Run (with `deno task echo-server` in another terminal):
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/tcp_echo_client.ts --message hello
 * ```
 *
 * Try it: `--message hello` prints `hello`; `head -c 1000000 /dev/urandom | deno task
 * echo-client | wc -c` prints `1000000`.
 *
 * Built on `Deno.connect` (`Deno.connectTls` with `--tls`), wrapped by `connectTcp` in
 * lib/tcp/connect_tcp.ts. Each mode is one lib call: `echoRoundTrip`, `pipeStdio`, `tcpPing`
 * (lib/load/tcp_ping.ts), `runEchoLoad` (lib/load/echo_load.ts).
 *
 * @module
 */

import { type CliValues, parseCliOrExit } from "../lib/cli/cli.ts";
import { connectOptions, logLevel } from "../lib/cli/cli_options.ts";
import { Logger } from "../lib/cli/log.ts";
import { allowNetFlag, formatRunCommand } from "../lib/cli/run_command.ts";
import { HexDumper, type HexDumpHooks } from "../lib/cli/hex_dump.ts";
import { pipeStdio } from "../lib/cli/pipe_stdio.ts";
import { readCaFile, TLS_CLIENT_OPTIONS } from "../lib/cli/tls_files.ts";
import { echoRoundTrip } from "../lib/tcp/echo_round_trip.ts";
import { looksLikeTlsAlert } from "../lib/tcp/looks_like_tls_alert.ts";
import { ConnectError, connectTcp, formatRetry } from "../lib/tcp/connect_tcp.ts";
import { benchOptions, connectionsOption, withClientCpu } from "../lib/load/bench_options.ts";
import { type EchoLoadOptions, runEchoLoad } from "../lib/load/echo_load.ts";
import { echoBenchReport, formatEchoBenchReport } from "../lib/load/echo_bench_report.ts";
import { formatTcpPingStatistics, TCP_PING_OPTIONS, tcpPing } from "../lib/load/tcp_ping.ts";
import { formatAddr, formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { isDisconnectError } from "../lib/net/net_errors.ts";
import { writeAll } from "../lib/io/write_all.ts";

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
    ...TCP_PING_OPTIONS,
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
    ...TLS_CLIENT_OPTIONS,
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

type Values = CliValues<typeof CLI.options>;

/** What every mode needs besides the connection. */
interface Session {
  values: Values;
  /** The server, `host:port`, for messages. */
  where: string;
  tls: boolean;
  /** Hex dump callbacks with `--hexdump`, else none. */
  hooks: Partial<HexDumpHooks>;
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
  try {
    caCerts = await readCaFile(values.ca);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  const target = { hostname, port: values.port, tls: values.tls || caCerts !== undefined, caCerts };
  const where = formatHostPort(hostname, values.port);
  const hooks = values.hexdump ? new HexDumper().hooks : {};
  const session = { values, where, tls: target.tls, hooks };

  try {
    if (values.bench) return await bench(target, session);

    const started = performance.now();
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
    new Logger({ level: logLevel(values) }).debug(
      `connected to ${where} from ${formatAddr(conn.localAddr)}${target.tls ? " over TLS" : ""}` +
        ` in ${(performance.now() - started).toFixed(1)} ms`,
    );
    if (values.count !== undefined) return await ping(conn, values.count, session);
    if (values.message !== undefined) return await oneShot(conn, values.message, session);
    if (Deno.stdin.isTerminal()) {
      console.error(`connected to ${where}: type a line and press Enter; Ctrl+D to quit`);
    }
    return await pipe(conn, session);
  } catch (error) {
    if (error instanceof ConnectError || isDisconnectError(error)) {
      console.error(`error: ${(error as Error).message}`);
      if (error instanceof ConnectError && error.code === "permission") {
        const read = values.ca ? [`--allow-read=${values.ca}`] : [];
        console.error(`run: ${formatRunCommand([allowNetFlag([values.host]), ...read])}`);
      }
      return 1;
    }
    throw error;
  }
}

const TLS_HINT = "the server answered with a TLS alert: it speaks TLS, try --tls " +
  "(and --ca FILE for a self-signed certificate)";

/** `--message`: send one line and check that exactly it came back. */
async function oneShot(
  conn: Deno.Conn,
  text: string,
  { values, tls, hooks }: Session,
): Promise<number> {
  const sent = new TextEncoder().encode(text + "\n");
  const timeout = values.timeout * 1000;
  const echo = await echoRoundTrip(conn, sent, { timeout, ...hooks });
  if (!tls && looksLikeTlsAlert(echo)) {
    console.error(`error: ${TLS_HINT}`);
    return 1;
  }
  if (echo.length < sent.length) {
    console.error(
      `error: got ${echo.length} of ${sent.length} bytes back before the server closed or ${timeout} ms passed`,
    );
    return 1;
  }
  const echoText = new TextDecoder().decode(echo);
  if (echoText !== text + "\n") {
    console.error(`error: the echo differs from what was sent: ${JSON.stringify(echoText)}`);
    return 1;
  }
  await writeAll(Deno.stdout, echo);
  return 0;
}

/** Pipe mode: stdin to the server, the echo to stdout, half-close at the end of stdin. */
async function pipe(conn: Deno.Conn, { tls, hooks }: Session): Promise<number> {
  let first = true;
  await pipeStdio(conn, {
    onSend: hooks.onSend,
    onReceive: (chunk) => {
      hooks.onReceive?.(chunk);
      if (first && !tls && looksLikeTlsAlert(chunk)) console.error(`warning: ${TLS_HINT}`);
      first = false;
    },
  });
  return 0;
}

/** TCP ping (`--count`): one RTT line per echo, Ctrl+C ends it early, then the statistics. */
async function ping(conn: Deno.Conn, count: number, { values, where }: Session): Promise<number> {
  const print = (line: string) => {
    if (!values.quiet && !values.json) console.log(line);
  };
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  print(`TCP PING ${where}`);
  const result = await tcpPing(conn, {
    count,
    interval: values.interval * 1000,
    timeout: values.timeout * 1000,
    text: values.message,
    target: where,
    signal: stop.signal,
    onReply: ({ seq, bytes, rtt }) =>
      print(`${bytes} bytes from ${where}: seq=${seq} time=${rtt.toFixed(3)} ms`),
  }).finally(() => Deno.removeSignalListener("SIGINT", onInterrupt));
  if (!values.json && result.error) console.error(`error: ${result.error}`);
  console.log(values.json ? JSON.stringify(result) : formatTcpPingStatistics(result));
  return result.error === undefined && result.received > 0 ? 0 : 1;
}

/** `--bench`: load from many connections, then one line (or one JSON object). */
async function bench(target: EchoLoadOptions, { values, where }: Session): Promise<number> {
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
  const report = echoBenchReport(result, {
    target: where,
    connections: values.connections,
    inFlight: values["in-flight"],
    size: values.size,
    clientCpu,
  });
  console.log(values.json ? JSON.stringify(report) : formatEchoBenchReport(report));
  return 0;
}

if (import.meta.main) Deno.exit(await main());
