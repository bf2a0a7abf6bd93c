/**
 * # WebSocket client
 *
 * A `wscat`-like client on the runtime's built-in `WebSocket`: each line of stdin becomes a
 * text message, and every message received is printed (binary ones as their length and a hex
 * preview; text without terminal escape sequences). `--message` sends one message, prints the
 * first reply (or `--count N` replies, or all that come within `--wait SECONDS`) and exits;
 * `--binary` sends hex input as binary messages, `--file` a file's bytes; `--bench` measures an
 * echo endpoint with `lib/load/websocket_load.ts`.
 *
 * `--show-ping` (`-P`, as in wscat) switches to the library's own RFC 6455 client
 * (`lib/websocket/connect_websocket.ts`), which can show what the runtime's `WebSocket` hides:
 * every Ping and Pong from the server is printed (`< ping PAYLOAD`, `< pong PAYLOAD`), and a stdin
 * line `/ping [TEXT]` sends a Ping.
 *
 * Nothing waits forever: `--timeout` (10 s) bounds the connect and handshake, and the wait for
 * `--message`'s replies.
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
import { LineDecoder } from "../lib/framing/line_decoder.ts";
import { onFirstInterrupt } from "../lib/net/shutdown_signals.ts";
import { sanitizeText } from "../lib/chat/sanitize_text.ts";
import { connectWebSocket } from "../lib/websocket/connect_websocket.ts";
import type { WebSocketConnection } from "../lib/websocket/websocket_connection.ts";
import { OPCODE } from "../lib/websocket/websocket_frame.ts";
import {
  closeWebSocket,
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
    file: {
      type: "string",
      valueName: "FILE",
      description: "Send FILE's bytes as one binary message, like --message (needs --allow-read)",
    },
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
    binary: {
      type: "boolean",
      short: "b",
      description: "Send binary messages: --message and stdin lines are hex, like 'de ad be ef'",
    },
    hexdump: {
      type: "boolean",
      short: "x",
      description: "Dump every message's bytes to stderr (> sent, < received), like ncat -x",
    },
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
    "Exit codes: 0 ok, 1 connection, protocol or timeout failure, 2 usage error.",
  ],
} as const;

const encoder = new TextEncoder();

/** How messages are shown and sent. */
interface Display {
  /** Prefix received messages with `< ` (interactive use). */
  marked: boolean;
  /** Parse outgoing lines as hex. */
  binary: boolean;
  dumper: HexDumper | undefined;
}

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

/** How a connection ended, from either kind of socket. */
interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * What the client needs of a WebSocket: the runtime's (`fromWebSocket`), or the library's own
 * client with `--show-ping` (`fromConnection`), which can also send a Ping.
 */
interface ClientSocket {
  readonly protocol: string;
  readonly extensions: string;
  isOpen(): boolean;
  send(data: string | Uint8Array): void;
  /** Sends a Ping; `undefined` on the runtime's `WebSocket`, which has no way to. */
  ping: ((payload: Uint8Array) => void) | undefined;
  /** Hands every message to `onMessage` until the connection ends; resolves with the close. */
  listen(onMessage: (data: string | Uint8Array) => void): Promise<CloseInfo>;
  /** Sends Close 1000 without waiting; replies already on their way still arrive. */
  startClose(): void;
  /** Sends Close 1000 and waits for the server's answer, about 1 s at most. */
  close(): Promise<void>;
}

function fromWebSocket(ws: WebSocket): ClientSocket {
  return {
    protocol: ws.protocol,
    extensions: ws.extensions,
    isOpen: () => ws.readyState === WebSocket.OPEN,
    send: (data) => ws.send(data),
    ping: undefined,
    listen(onMessage) {
      const { promise, resolve } = Promise.withResolvers<CloseInfo>();
      ws.onmessage = (event) =>
        onMessage(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
      ws.onclose = (event) => resolve({ code: event.code, reason: event.reason });
      return promise;
    },
    startClose: () => ws.close(1000),
    close: () => closeWebSocket(ws),
  };
}

function fromConnection(ws: WebSocketConnection): ClientSocket {
  return {
    protocol: ws.protocol ?? "",
    extensions: "",
    isOpen: () => ws.readyState === "open",
    send: (data) => void ws.send(data),
    ping: (payload) => void ws.ping(payload),
    async listen(onMessage) {
      // receive() in a loop: messages that came after our Close are still handed out.
      for (let message; (message = await ws.receive()) !== null;) onMessage(message.data);
      const { code, reason } = await ws.closed;
      return { code, reason };
    },
    startClose: () => void ws.close(1000).catch(() => {}),
    close: () => ws.close(1000).then(() => {}, () => {}),
  };
}

/** A received message as one printable line (or several, for text with newlines). */
function describe(data: string | Uint8Array): string {
  if (typeof data === "string") return data.split("\n").map(sanitizeText).join("\n");
  const hex = Array.from(data.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return `<binary ${data.length} bytes: ${hex}${data.length > 16 ? " ..." : ""}>`;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** `--show-ping`: a Ping or Pong as `< ping PAYLOAD`, the payload as text or else as hex. */
function showControl(opcode: number, data: Uint8Array, display: Display): void {
  let text: string;
  try {
    text = sanitizeText(strictDecoder.decode(data));
  } catch {
    text = Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(" ");
  }
  const name = opcode === OPCODE.PING ? "ping" : "pong";
  display.dumper?.dump("<", data);
  console.log(`< ${name}${text ? ` ${text}` : ""}`);
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

function show(data: string | Uint8Array, display: Display): void {
  display.dumper?.dump("<", bytesOf(data));
  console.log(`${display.marked ? "< " : ""}${describe(data)}`);
}

function send(ws: ClientSocket, data: string | Uint8Array, display: Display): void {
  display.dumper?.dump(">", bytesOf(data));
  ws.send(data);
}

interface SendOneOptions {
  /** Replies to print before closing. */
  count: number;
  /** Print replies for this long (ms), then close normally. */
  wait: number | undefined;
  /** Without `wait`: fail if `count` replies did not come within this long (ms). */
  timeout: number;
}

/** `--message` / `--file`: send one message, print replies as asked, close. */
async function sendOne(
  ws: ClientSocket,
  payload: string | Uint8Array,
  options: SendOneOptions,
  display: Display,
): Promise<number> {
  let replies = 0;
  let done = false;
  const { promise: finished, resolve: finish } = Promise.withResolvers<number>();
  ws.listen((data) => {
    if (replies >= options.count) return;
    show(data, display);
    if (++replies >= options.count) finish(0);
  }).then((event) => {
    if (done) return; // we closed it ourselves
    console.error(`closed by the server: ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
    finish(replies >= options.count || event.code === 1000 ? (replies > 0 ? 0 : 1) : 1);
  }).catch((error) => {
    console.error(`error: ${error.message}`);
    finish(1);
  });
  const timer = options.wait !== undefined
    ? setTimeout(() => finish(0), options.wait)
    : setTimeout(() => {
      console.error(
        `error: got ${replies} of ${options.count} ${
          options.count === 1 ? "reply" : "replies"
        } within ${options.timeout / 1000} s` +
          ` (--timeout sets the limit; --wait SECONDS prints whatever comes and exits 0)`,
      );
      finish(1);
    }, options.timeout);
  const stopListening = onFirstInterrupt(() => finish(0));
  send(ws, payload, display);
  if (options.count === 0 && options.wait === undefined) finish(0);
  const code = await finished;
  done = true;
  clearTimeout(timer);
  stopListening();
  await ws.close();
  return code;
}

/** Interactive and pipe modes: stdin lines out, every message in printed. */
async function session(
  ws: ClientSocket,
  url: string,
  display: Display,
  quiet: boolean,
): Promise<number> {
  const { promise: interrupted, resolve: resolveInterrupted } = Promise.withResolvers<CloseInfo>();
  let weClosed = false;
  const closed = ws.listen((data) => show(data, display));
  // Ctrl+C: say goodbye with Close 1000 instead of dropping the connection, and exit even if
  // the server never answers the Close.
  const stopListening = onFirstInterrupt(() => {
    weClosed = true;
    ws.close().then(() => resolveInterrupted({ code: 1000, reason: "" }));
  });
  if (!quiet) {
    console.error(
      `connected to ${url}${
        display.marked ? ": type a line and press Enter (received messages start with <)" : ""
      }`,
    );
  }
  // Stdin is read in the background; at its end we close, and the replies to everything
  // sent still arrive first because the server answers our Close after them.
  sendLines(ws, display).then(() => {
    weClosed = true;
    if (ws.isOpen()) ws.startClose();
  }).catch((error) => console.error(`error: ${error.message}`));
  const event = await Promise.race([closed, interrupted]).finally(stopListening);
  if (weClosed && (event.code === 1000 || event.code === 1005)) return 0;
  console.error(`closed by the server: ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
  return event.code === 1000 || event.code === 1001 ? 0 : 1;
}

/** `/ping` or `/ping TEXT` with --show-ping: the Ping's payload, or `undefined` for a message. */
function pingCommand(line: string): string | undefined {
  const match = line.match(/^\/ping(?: (.*))?$/);
  return match ? match[1] ?? "" : undefined;
}

async function sendLines(ws: ClientSocket, display: Display): Promise<void> {
  const decoder = new LineDecoder();
  const buffer = new Uint8Array(65_536);
  const sendLine = (line: string) => {
    const pingText = ws.ping && pingCommand(line);
    if (pingText !== undefined) {
      const payload = encoder.encode(pingText);
      if (payload.length > 125) {
        console.error(`not sent: a ping carries at most 125 bytes, not ${payload.length}`);
        return;
      }
      display.dumper?.dump(">", payload);
      if (display.marked) console.log(`> ping${pingText ? ` ${pingText}` : ""}`);
      return ws.ping!(payload);
    }
    if (!display.binary) return send(ws, line, display);
    const bytes = parseHex(line);
    if (bytes === undefined) console.error(`not sent: ${JSON.stringify(line)} is not hex`);
    else send(ws, bytes, display);
  };
  for (let n; (n = await Deno.stdin.read(buffer)) !== null;) {
    decoder.push(buffer.subarray(0, n));
    for (let line; (line = decoder.next()) !== null;) {
      if (!ws.isOpen()) return;
      sendLine(line);
    }
  }
  decoder.end();
  for (let line; (line = decoder.next()) !== null;) {
    if (ws.isOpen()) sendLine(line);
  }
}

if (import.meta.main) Deno.exit(await main());
