/**
 * # TCP proxy with faults: a bad network between a client and its server
 *
 * Forwards each client to `--to HOST:PORT` over its own upstream connection, and on the way
 * does what real networks do: latency and jitter, a bandwidth limit, writes split down to one
 * byte, a reset after so many bytes, a blackhole, a close after a while. Client bugs that
 * loopback hides (one `read()` taken for one message, no timeout) show up here. Each direction
 * streams with backpressure; TLS passes through untouched.
 *
 * Run (with `deno task echo-server` in another terminal):
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/tcp_proxy.ts --to 127.0.0.1:7000 --slice 1
 * ```
 *
 * Try it: `nc 127.0.0.1 7010`, type `hello`: it comes back from the echo server, one byte per
 * write with `--slice 1`. Ctrl+C prints the bytes of each connection each way.
 *
 * Built on `Deno.listen` and `Deno.connect`, wrapped by `serveTcp` (lib/tcp/serve_tcp.ts) and
 * `connectTcp`; the forwarding is `proxyConnection` in lib/proxy/proxy_connection.ts.
 *
 * @module
 */

import { parseCliOrExit } from "../lib/cli/cli.ts";
import { listenOptions } from "../lib/cli/cli_options.ts";
import { formatBytes } from "../lib/cli/format_bytes.ts";
import { formatProxySummary } from "../lib/cli/format_proxy_summary.ts";
import { Logger } from "../lib/cli/log.ts";
import { formatAddr, formatHostPort } from "../lib/net/net_addr.ts";
import { ConnectError, connectTcp } from "../lib/tcp/connect_tcp.ts";
import { BufferBudget } from "../lib/io/buffer_budget.ts";
import { closeQuietly } from "../lib/io/close_quietly.ts";
import { type ConnectionContext, serveTcp, type TcpServer } from "../lib/tcp/serve_tcp.ts";
import { StreamFaultSchedule } from "../lib/proxy/fault_schedule.ts";
import { type HostPort, parseHostPort } from "../lib/proxy/parse_host_port.ts";
import { type DirectionOptions, proxyConnection } from "../lib/proxy/proxy_connection.ts";
import { ProxyRecords, recordEnd } from "../lib/proxy/proxy_records.ts";

const CLI = {
  name: "tcp_proxy.ts",
  summary: "Forward TCP connections to --to HOST:PORT through a bad network of your choosing.",
  usage: [
    "deno run --allow-net=127.0.0.1 scripts/tcp_proxy.ts --to HOST:PORT [faults] [options]",
  ],
  options: {
    ...listenOptions(7010),
    to: {
      type: "string",
      default: "127.0.0.1:7000",
      valueName: "HOST:PORT",
      description: "The server to forward to ([::1]:PORT for IPv6)",
    },
    direction: {
      type: "string",
      default: "both",
      valueName: "up|down|both",
      description: "Which way the faults apply: up = client to server, down = server to client",
    },
    latency: millis("Delay every chunk this long"),
    jitter: millis("And up to this much more, at random (order is kept)"),
    bandwidth: bytes("Forward at most this many bytes per second (0 = no limit)", "BYTES_PER_S"),
    slice: bytes("Forward in writes of at most this many bytes (1 = byte by byte)"),
    "slice-pause": {
      ...millis("Pause after each sliced write, so the receiver reads the pieces apart", 10_000),
      default: 1,
    },
    "reset-after": bytes("Reset the connection once this many bytes have passed (0 = never)"),
    blackhole: {
      type: "boolean",
      description: "Read and discard: forward nothing (not even the EOF)",
    },
    "close-after": {
      type: "number",
      default: 0,
      min: 0,
      valueName: "SECONDS",
      description: "Close each connection this long after it opened (0 = never)",
    },
    "max-connections": {
      type: "integer",
      default: 1000,
      min: 1,
      description: "Refuse clients beyond this many",
    },
    "idle-timeout": {
      type: "number",
      default: 300,
      min: 0,
      valueName: "SECONDS",
      description: "Close connections idle this long (0 = never)",
    },
    "max-buffer-memory": {
      ...bytes("Read buffers of all connections together, beyond 4 KiB each"),
      default: 67_108_864,
    },
    json: { type: "boolean", description: "Print the Ctrl+C summary as one JSON object" },
  },
  notes: [
    "Try it: deno task echo-server, then deno task tcp-proxy --slice 1, then nc 127.0.0.1 7010",
    "A reset is passed on by closing the other side with its data unread: Deno's close() sends",
    "a FIN, then the kernel an RST, so that peer reads EOF and its next write fails (BrokenPipe).",
    "Ctrl+C prints each connection's bytes each way and the totals (--json: as JSON).",
  ],
} as const;

/** A delay flag in milliseconds; 0 (the default) turns it off. */
function millis(description: string, max = 600_000) {
  return { type: "number", default: 0, min: 0, max, valueName: "MS", description } as const;
}

/** A byte-count flag; 0 (the default) turns it off. */
function bytes(description: string, valueName = "BYTES") {
  return { type: "integer", default: 0, min: 0, valueName, description } as const;
}

type Values = ReturnType<typeof parseCliOrExit<typeof CLI.options>>["values"];

/** The faults of one direction, from the flags. */
function directionOptions(values: Values, applies: boolean): DirectionOptions {
  if (!applies) return {};
  return {
    faults: new StreamFaultSchedule({
      latency: values.latency,
      jitter: values.jitter,
      bandwidth: values.bandwidth,
      slice: values.slice,
      slicePause: values["slice-pause"],
    }),
    resetAfter: values["reset-after"],
    blackhole: values.blackhole,
  };
}

/** One line naming the faults in effect, for the start-up log. */
function describeFaults(values: Values): string {
  const parts = [
    values.latency > 0 ? `latency ${values.latency} ms` : "",
    values.jitter > 0 ? `jitter ${values.jitter} ms` : "",
    values.bandwidth > 0 ? `bandwidth ${values.bandwidth} B/s` : "",
    values.slice > 0 ? `slice ${values.slice} B` : "",
    values["reset-after"] > 0 ? `reset after ${values["reset-after"]} B` : "",
    values.blackhole ? "blackhole" : "",
  ].filter(Boolean);
  const close = values["close-after"] > 0 ? `, close after ${values["close-after"]} s` : "";
  return parts.length === 0
    ? `no faults${close}`
    : `${parts.join(", ")} (${values.direction})${close}`;
}

/** Starts the proxy from command-line flags; resolves with the exit code once shut down. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  let target: HostPort;
  try {
    target = parseHostPort(values.to);
    if (!["up", "down", "both"].includes(values.direction)) {
      throw new SyntaxError(`--direction must be up, down or both, not '${values.direction}'`);
    }
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }
  const log = new Logger({ level: values.quiet ? "warn" : "info" });
  const where = formatHostPort(target.hostname, target.port);
  // Say so at once, rather than on every client, when the upstream is outside --allow-net.
  const permission = await Deno.permissions.query({ name: "net", host: where });
  if (permission.state !== "granted") {
    console.error(
      `error: permission denied: run with --allow-net=${values.host},${where} to forward to ${where}`,
    );
    return 1;
  }
  const up = directionOptions(values, values.direction !== "down");
  const down = directionOptions(values, values.direction !== "up");

  const records = new ProxyRecords();
  const budget = new BufferBudget(values["max-buffer-memory"]);

  const handler = async (client: Deno.Conn, ctx: ConnectionContext) => {
    const started = performance.now();
    const peer = formatAddr(ctx.remoteAddr);
    const who = `#${ctx.id} ${peer}`;
    let upstream: Deno.Conn;
    try {
      upstream = await connectTcp({ ...target, timeout: 5_000, signal: ctx.signal });
    } catch (error) {
      const advice = error instanceof ConnectError ? error.message : String(error);
      // Closing the client tells it at once; it would otherwise wait for a reply.
      log.warn(`${who}: cannot reach upstream, closing the client: ${advice}`);
      const nothing = { up: 0, down: 0, upWrites: 0, downWrites: 0, ms: 0 };
      records.add({ id: ctx.id, client: peer, end: "refused", ...nothing });
      return;
    }
    log.info(`${who} connected, forwarding to ${where}`);
    let result;
    try {
      result = await proxyConnection(client, upstream, {
        up,
        down,
        closeAfter: values["close-after"] * 1000,
        signal: ctx.signal,
        onData: () => ctx.touch(),
        budget,
      });
    } finally {
      // proxyConnection closes both sockets; this is the safety net should it ever throw.
      closeQuietly(upstream);
    }
    const end = recordEnd(result);
    const ms = Math.round(performance.now() - started);
    const bytesEachWay = { up: result.up.bytes, down: result.down.bytes };
    const writesEachWay = { upWrites: result.up.writes, downWrites: result.down.writes };
    records.add({ id: ctx.id, client: peer, end, ms, ...bytesEachWay, ...writesEachWay });
    const detail = end === "failed" ? ` (${(result.error as Error)?.message})` : "";
    log.info(
      `${who} ${end}${detail} after ${ms} ms: up ${formatBytes(result.up.bytes)}, down ${
        formatBytes(result.down.bytes)
      }`,
    );
  };

  let server: TcpServer;
  try {
    server = serveTcp(handler, {
      hostname: values.host,
      port: values.port,
      maxConnections: values["max-connections"],
      idleTimeout: values["idle-timeout"] * 1000,
      gracePeriod: 1_000,
      handleSignals: true,
      noDelay: true,
      logger: log,
    });
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  console.log(`listening on ${formatAddr(server.addr)}`);
  log.info(`forwarding to ${where}: ${describeFaults(values)}`);
  await server.finished;

  const summary = records.summary;
  console.log(values.json ? JSON.stringify(summary) : formatProxySummary(summary));
  return 0;
}

if (import.meta.main) Deno.exit(await main());
