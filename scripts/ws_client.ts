/**
 * # WebSocket client
 *
 * A `wscat`-like client on the runtime's built-in `WebSocket`: each line of stdin becomes a
 * text message, and every message received is printed (binary ones as their length and a hex
 * preview). `--message` sends one message, prints the first reply and exits; `--bench` measures
 * an echo endpoint.
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
 * wrapper for the socket itself.
 *
 * @module
 */

import { parseCliOrExit } from "../lib/cli/cli.ts";
import { LatencyRecorder } from "../lib/load/latency_stats.ts";
import { LineDecoder } from "../lib/framing/line_decoder.ts";

const CLI = {
  name: "ws_client.ts",
  summary: "Send stdin lines to a WebSocket server and print what comes back.",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/ws_client.ts URL [options]",
    "deno run --allow-net=127.0.0.1 scripts/ws_client.ts ws://127.0.0.1:8080/echo --message hi",
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
      description: "Send TEXT, print the first reply, and exit",
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
      description: "Offer a subprotocol",
    },
    ca: { type: "string", valueName: "FILE", description: "Trust this PEM CA for wss://" },
    bench: { type: "boolean", description: "Measure an echo endpoint instead" },
    connections: {
      type: "integer",
      short: "c",
      default: 10,
      min: 1,
      max: 10_000,
      description: "--bench: connections",
    },
    "in-flight": {
      type: "integer",
      short: "d",
      default: 16,
      min: 1,
      max: 1024,
      description: "--bench: messages in flight per connection",
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
    duration: {
      type: "number",
      short: "t",
      default: 5,
      min: 0.1,
      max: 600,
      valueName: "SECONDS",
      description: "--bench: how long to measure",
    },
  },
  notes: ["Try it: deno task ws-server, then deno task ws-client ws://127.0.0.1:8080/echo"],
} as const;

/** Connection settings shared by every mode. */
interface Target {
  url: string;
  options: WebSocketOptions;
}

/**
 * Runs the client.
 *
 * @param args Command-line arguments.
 * @returns The exit code: 0 on success, 1 on a connection or protocol failure, 2 on bad usage.
 */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values, positionals } = parseCliOrExit(args, CLI);
  const url = positionals[0];
  if (url === undefined || positionals.length > 1) {
    console.error("error: give exactly one URL, like ws://127.0.0.1:8080/echo\nRun with --help.");
    return 2;
  }
  if (!URL.canParse(url) || !["ws:", "wss:"].includes(new URL(url).protocol)) {
    console.error(`error: bad URL ${JSON.stringify(url)}: expected ws://HOST:PORT/PATH or wss://`);
    return 2;
  }
  const headers = new Headers();
  for (const header of values.header) {
    const colon = header.indexOf(":");
    if (colon <= 0) {
      console.error(`error: bad --header ${JSON.stringify(header)}: expected NAME:VALUE`);
      return 2;
    }
    headers.append(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
  }
  const options: WebSocketOptions = { headers, protocols: values.protocol };
  if (values.ca) {
    try {
      options.client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(values.ca)] });
    } catch (error) {
      console.error(`error: cannot read --ca ${values.ca}: ${(error as Error).message}`);
      return 1;
    }
  }
  const target = { url, options };
  try {
    if (values.bench) {
      return await bench(target, {
        connections: values.connections,
        inFlight: values["in-flight"],
        size: values.size,
        duration: values.duration * 1000,
      });
    }
    return await chat(target, values.message, values.quiet);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    options.client?.close();
  }
}

/** Opens a WebSocket, turning the runtime's terse handshake errors into advice. */
function open(target: Target): Promise<WebSocket> {
  const ws = new WebSocket(target.url, target.options);
  ws.binaryType = "arraybuffer";
  const { promise, resolve, reject } = Promise.withResolvers<WebSocket>();
  ws.onopen = () => resolve(ws);
  ws.onerror = (event) => reject(new Error(explainOpenError(target.url, event)));
  return promise.finally(() => {
    ws.onopen = null;
    ws.onerror = null;
  });
}

function explainOpenError(url: string, event: Event): string {
  const message = event instanceof ErrorEvent ? event.message : String(event);
  const { host } = new URL(url);
  const status = message.match(/status code:? (\d+)/i)?.[1];
  if (status) {
    const hints: Record<string, string> = {
      "403": "the server refused this Origin",
      "404": "no WebSocket endpoint at this path",
      "426": "the server wants another WebSocket version or a ws:// URL",
    };
    return `handshake rejected by ${host}: HTTP ${status}${
      hints[status] ? ` (${hints[status]})` : ""
    }`;
  }
  if (/connect error|refused/i.test(message)) {
    return `connection refused: is the server running on ${host}?`;
  }
  if (/certificate|tls|ssl/i.test(message)) {
    return `TLS failed with ${host}: ${message} (for a self-signed server, pass --ca FILE)`;
  }
  return `cannot connect to ${url}: ${message}`;
}

function describe(data: string | ArrayBuffer): string {
  if (typeof data === "string") return data;
  const bytes = new Uint8Array(data);
  const hex = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return `<binary ${bytes.length} bytes: ${hex}${bytes.length > 16 ? " ..." : ""}>`;
}

/** Interactive, pipe and one-shot modes. */
async function chat(target: Target, message: string | undefined, quiet: boolean): Promise<number> {
  const ws = await open(target);
  if (message === undefined && !quiet) {
    console.error(`connected to ${target.url}${ws.protocol ? ` (${ws.protocol})` : ""}`);
  }
  const { promise: closed, resolve } = Promise.withResolvers<CloseEvent>();
  let weClosed = false;
  ws.onclose = resolve;
  ws.onmessage = (event) => {
    console.log(describe(event.data));
    if (message !== undefined && !weClosed) {
      weClosed = true;
      ws.close(1000);
    }
  };
  if (message !== undefined) {
    ws.send(message);
  } else {
    // Stdin is read in the background; at its end we close, and the replies to everything
    // sent still arrive first because the server answers our Close after them.
    sendLines(ws).then(() => {
      weClosed = true;
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    }).catch((error) => console.error(`error: reading stdin: ${error.message}`));
  }
  // Ctrl+C: say goodbye with Close 1000 instead of dropping the connection.
  const onInterrupt = () => {
    weClosed = true;
    ws.close(1000);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const event = await closed.finally(() => Deno.removeSignalListener("SIGINT", onInterrupt));
  if (weClosed && event.code === 1000) return 0;
  console.error(`closed by the server: ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
  return event.code === 1000 || event.code === 1001 ? 0 : 1;
}

async function sendLines(ws: WebSocket): Promise<void> {
  const decoder = new LineDecoder();
  const buffer = new Uint8Array(65_536);
  for (let n; (n = await Deno.stdin.read(buffer)) !== null;) {
    decoder.push(buffer.subarray(0, n));
    for (let line; (line = decoder.next()) !== null;) {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(line);
    }
  }
  decoder.end();
  for (let line; (line = decoder.next()) !== null;) ws.send(line);
}

interface BenchOptions {
  connections: number;
  inFlight: number;
  size: number;
  duration: number;
}

/**
 * Keeps `inFlight` messages in flight on each connection to an echo endpoint and measures
 * messages per second and round-trip latency.
 */
async function bench(target: Target, options: BenchOptions): Promise<number> {
  const sockets = await Promise.all(
    Array.from({ length: options.connections }, () => open(target)),
  );
  const payload = "x".repeat(options.size);
  const latency = new LatencyRecorder();
  let count = 0;
  let running = true;
  const done = Promise.all(sockets.map((ws) => {
    const sentAt: number[] = []; // echoes come back in order: a FIFO of send times
    let head = 0;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    ws.onmessage = () => {
      const now = performance.now();
      latency.record(now - sentAt[head++]!);
      count++;
      if (head > 4096) {
        sentAt.splice(0, head);
        head = 0;
      }
      if (running) {
        sentAt.push(now);
        ws.send(payload);
      } else if (head === sentAt.length) {
        ws.close(1000);
      }
    };
    ws.onclose = (event) =>
      running ? reject(new Error(`server closed a connection: ${event.code}`)) : resolve();
    for (let i = 0; i < options.inFlight; i++) {
      sentAt.push(performance.now());
      ws.send(payload);
    }
    return promise;
  }));
  done.catch(() => {}); // awaited below; a failure during the run must not go unhandled
  const start = performance.now();
  await Promise.race([new Promise((r) => setTimeout(r, options.duration)), done]);
  running = false;
  const seconds = (performance.now() - start) / 1000;
  const messages = count;
  await done;
  const s = latency.summary();
  console.log(
    `${options.connections} connections x ${options.inFlight} in flight x ${options.size} bytes: ` +
      `${(messages / seconds).toFixed(0)} messages/s, ` +
      `latency p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
