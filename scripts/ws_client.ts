/**
 * # WebSocket client
 *
 * A `wscat`-like client: each line of stdin becomes a text message, and every message received is
 * printed (binary as a hex preview, text without terminal escapes). `--message` sends one and
 * prints the reply; `--show-ping` uses the library's own RFC 6455 client to show Pings and Pongs;
 * `--bench` measures an echo endpoint. Nothing waits forever: `--timeout` (10 s) bounds the
 * handshake and the wait for replies. The README's WebSocket client section has every mode.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo
 * deno run --allow-net=localhost --allow-read=tests/fixtures scripts/ws_client.ts \
 *   wss://localhost:8443/echo --ca tests/fixtures/ca.crt
 * ```
 *
 * Try it (with `scripts/ws_server.ts` running):
 * `deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --message hi`
 * prints `hi`.
 *
 * Built on the runtime's `WebSocket` (Web API; `Deno.createHttpClient` for `--ca`), with no lib
 * wrapper for the socket itself; with `--show-ping`, on `connectWebSocket` from lib/websocket/.
 *
 * @module
 */

import { parseCliOrExit } from "../lib/cli/cli.ts";
import { logLevel } from "../lib/cli/cli_options.ts";
import { Logger } from "../lib/cli/log.ts";
import { allowNetFlag, formatRunCommand } from "../lib/cli/run_command.ts";
import { HexDumper, parseHex } from "../lib/cli/hex_dump.ts";
import { benchOptions, connectionsOption } from "../lib/load/bench_options.ts";
import { benchWebSocket, formatWebSocketBench } from "../lib/load/websocket_bench.ts";
import { onFirstInterrupt } from "../lib/net/shutdown_signals.ts";
import { connectWebSocket } from "../lib/websocket/connect_websocket.ts";
import { fromConnection, fromWebSocket } from "../lib/websocket/client_socket.ts";
import { type Display, sendOne, session, showControl } from "../lib/cli/ws_client_session.ts";
import {
  openWebSocket,
  type OpenWebSocketOptions,
  WebSocketOpenError,
} from "../lib/websocket/websocket_client.ts";

const CLI = {
  name: "ws_client.ts",
  summary: "Send stdin lines to a WebSocket server and print what comes back.",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/ws_client.ts URL [options]",
    "deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --message hi",
    "deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/broadcast -m hi --wait 5",
    "deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --show-ping",
    "deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --bench",
    "deno run --allow-net=localhost --allow-read=tests/fixtures scripts/ws_client.ts \\",
    "  wss://localhost:8443/echo --ca tests/fixtures/ca.crt",
  ],
  positionals: "URL",
  options: {
    message: {
      type: "string",
      short: "m",
      valueName: "TEXT",
      description: "Send TEXT, print the reply (see --count and --wait), and exit",
    },
    file: { type: "string", valueName: "FILE", description: "Send FILE's bytes, like --message" },
    count: {
      type: "integer",
      short: "n",
      min: 0,
      max: 1_000_000,
      description: "With --message/--file: replies to wait for (default 1, or all with --wait)",
    },
    wait: {
      type: "number",
      short: "w",
      min: 0,
      max: 3600,
      valueName: "SECONDS",
      description: "With --message/--file: print replies for this long, then close (wscat -w)",
    },
    timeout: {
      type: "number",
      default: 10,
      min: 0.001,
      max: 3600,
      valueName: "SECONDS",
      description: "Give up on connect and handshake, and on the --count replies, after this long",
    },
    binary: { type: "boolean", short: "b", description: "Send hex (--message, stdin) as binary" },
    hexdump: { type: "boolean", short: "x", description: "Dump every message's bytes to stderr" },
    "show-ping": {
      type: "boolean",
      short: "P",
      description: "Print pings and pongs (< ping DATA); stdin line /ping [TEXT] sends a ping",
    },
    header: {
      type: "string",
      short: "H",
      multiple: true,
      valueName: "NAME:VALUE",
      description: "Add a handshake header, e.g. Origin:http://example.com",
    },
    protocol: {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description: "Offer a subprotocol (the one the server picks is reported)",
    },
    ca: { type: "string", valueName: "FILE", description: "Trust this PEM CA for wss://" },
    ...benchOptions({ inFlight: 16, maxInFlight: 1024 }),
    connections: connectionsOption(10, 10_000),
  },
  notes: [
    "Try it: deno task ws-server, then deno task ws-client ws://127.0.0.1:8080/echo",
    "On a terminal, received messages start with '< '. Text from the server is shown without",
    "terminal escape sequences; binary messages as their length and first bytes (--hexdump: all).",
    "Pings from the server are answered and not shown; with --show-ping (the library's own",
    "client instead of the runtime's WebSocket) they are printed as '< ping DATA', Pongs as",
    "'< pong DATA' (text, or hex when not UTF-8), and a line '/ping [TEXT]' sends a Ping.",
    "--binary takes hex like 'de ad be ef'; --hexdump marks > sent and < received, like ncat -x.",
    "Exit codes: 0 ok, 1 connection, protocol or timeout failure, 2 usage error.",
  ],
} as const;

/**
 * Runs the client.
 *
 * @param args Command-line arguments.
 * @returns The exit code: 0 on success, 1 on a connection or protocol failure, 2 on bad usage.
 */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values, positionals } = parseCliOrExit(args, CLI);
  const usage = (message: string) => {
    console.error(`error: ${message}\nRun with --help for usage.`);
    return 2;
  };
  const url = positionals[0];
  if (url === undefined || positionals.length > 1) {
    return usage("give exactly one URL, like ws://127.0.0.1:8080/echo");
  }
  if (!URL.canParse(url) || !["ws:", "wss:"].includes(new URL(url).protocol)) {
    return usage(`bad URL ${JSON.stringify(url)}: expected ws://HOST:PORT/PATH or wss://`);
  }
  if (values.message !== undefined && values.file !== undefined) {
    return usage("give --message or --file, not both");
  }
  const oneShot = values.message !== undefined || values.file !== undefined;
  if (!oneShot && (values.count !== undefined || values.wait !== undefined)) {
    return usage("--count and --wait go with --message or --file");
  }
  let payload: string | Uint8Array | undefined = values.message;
  if (values.binary && values.message !== undefined) {
    const bytes = parseHex(values.message);
    if (bytes === undefined) {
      return usage(`--message is not hex: ${JSON.stringify(values.message)}`);
    }
    payload = bytes;
  }
  const headers = new Headers();
  for (const header of values.header) {
    const colon = header.indexOf(":");
    if (colon <= 0) return usage(`bad --header ${JSON.stringify(header)}: expected NAME:VALUE`);
    headers.append(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
  }
  const timeout = values.timeout * 1000;
  if (values["show-ping"] && values.bench) return usage("--show-ping does not go with --bench");
  const options: OpenWebSocketOptions = { headers, protocols: values.protocol, timeout };
  let caCerts: string[] | undefined;
  try {
    if (values.file !== undefined) payload = await Deno.readFile(values.file);
    if (values.ca) caCerts = [await Deno.readTextFile(values.ca)];
    if (caCerts && !values["show-ping"]) options.client = Deno.createHttpClient({ caCerts });
  } catch (error) {
    const file = values.file ?? values.ca;
    const flag = values.file !== undefined ? "--file" : "--ca";
    console.error(
      error instanceof Deno.errors.NotCapable
        ? `error: permission denied: run with --allow-read=${file} to read ${flag} ${file}`
        : `error: cannot read ${flag} ${file}: ${(error as Error).message}`,
    );
    return 1;
  }
  const log = new Logger({ level: logLevel(values) });
  const display: Display = {
    marked: Deno.stdin.isTerminal() && !oneShot,
    binary: values.binary,
    dumper: values.hexdump ? new HexDumper() : undefined,
  };
  try {
    if (values.bench) {
      const report = await benchWebSocket(url, {
        connections: values.connections,
        inFlight: values["in-flight"],
        size: values.size,
        duration: values.duration * 1000,
        warmup: values.warmup * 1000,
      });
      console.log(values.json ? JSON.stringify(report) : formatWebSocketBench(report));
      return 0;
    }
    // Ctrl+C before the handshake is done: there is no one to say goodbye to yet.
    const stopWaiting = onFirstInterrupt(() => Deno.exit(0));
    const started = performance.now();
    const ws = await (values["show-ping"]
      ? connectWebSocket(url, {
        headers,
        protocols: values.protocol,
        timeout,
        caCerts,
        closeTimeout: 1_000,
        onControl: (opcode, data) => showControl(opcode, data, display),
      }).then(fromConnection)
      : openWebSocket(url, options).then(fromWebSocket)).finally(stopWaiting);
    log.debug(
      `connected to ${url} in ${(performance.now() - started).toFixed(1)} ms` +
        ` (subprotocol ${ws.protocol || "none"}, extensions ${ws.extensions || "none"})`,
    );
    if (values.protocol.length > 0 && !values.quiet) {
      console.error(
        ws.protocol ? `subprotocol: ${ws.protocol}` : "subprotocol: none (the server took none)",
      );
    }
    if (payload !== undefined) {
      const wait = values.wait === undefined ? undefined : values.wait * 1000;
      const count = values.count ?? (wait === undefined ? 1 : Infinity);
      return await sendOne(ws, payload, { count, wait, timeout }, display);
    }
    return await session(ws, url, display, values.quiet);
  } catch (error) {
    console.error(`error: ${advice(error)}`);
    if (error instanceof WebSocketOpenError && error.code === "permission") {
      const read = values.ca ? [`--allow-read=${values.ca}`] : [];
      const host = new URL(url).hostname;
      console.error(`run: ${formatRunCommand([allowNetFlag([host]), ...read])}`);
    }
    return 1;
  } finally {
    options.client?.close();
  }
}

/** The library's message, plus the flag that changes the outcome. */
function advice(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof WebSocketOpenError)) return message;
  if (error.code === "timeout") return `${message} (--timeout sets the limit)`;
  if (error.code === "tls") return `${message} (for a self-signed server, pass --ca FILE)`;
  return message;
}

if (import.meta.main) Deno.exit(await main());
