/**
 * # UDP proxy with faults: loss, duplicates, reordering and delay
 *
 * Forwards datagrams to `--to HOST:PORT` and the replies back, and on the
 * way loses, duplicates, reorders and delays them, as a real network may.
 * With `--seed N` the same datagrams meet the same fate on every run, so a
 * failure seen once can be replayed.
 *
 * UDP has no connections, so the proxy keeps a session per client address:
 * its own upstream socket, whose replies go back to that client. The table
 * is bounded (`--max-sessions`, the least recently active is evicted) and
 * idle sessions expire (`--idle-timeout`); the bookkeeping is `UdpProxySessions` in
 * lib/proxy/udp_proxy_sessions.ts.
 *
 * Run (with `deno task udp-server` in another terminal):
 *
 * ```sh
 * deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_proxy.ts --to 127.0.0.1:7001 \
 *   --loss 0.25 --seed 1
 * ```
 *
 * Try it: `deno task udp-client --count 20 --interval 0.05 --port 7011`: about a
 * quarter of the probes get no reply, and Ctrl+C on the proxy prints the
 * same number lost.
 *
 * @module
 */

import { listenOptions, parseCliOrExit } from "../lib/cli/cli.ts";
import { Logger } from "../lib/cli/log.ts";
import { formatAddr, formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { onShutdownSignal } from "../lib/net/shutdown_signals.ts";
import { listenUdp } from "../lib/udp/listen_udp.ts";
import type { DatagramShaperCounts } from "../lib/proxy/datagram_shaper.ts";
import { DatagramFaultSchedule } from "../lib/proxy/fault_schedule.ts";
import { type HostPort, parseHostPort } from "../lib/proxy/parse_host_port.ts";
import { randomSeed, SeededRandom } from "../lib/proxy/seeded_random.ts";
import { UdpProxySessions, type UdpProxySummary } from "../lib/proxy/udp_proxy_sessions.ts";

const CLI = {
  name: "udp_proxy.ts",
  summary: "Forward UDP datagrams to --to HOST:PORT and back, losing, duplicating, " +
    "reordering and delaying some.",
  usage: [
    "deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_proxy.ts --to HOST:PORT [faults]",
  ],
  options: {
    ...listenOptions(7011),
    to: {
      type: "string",
      default: "127.0.0.1:7001",
      valueName: "HOST:PORT",
      description: "The server to forward to ([::1]:PORT for IPv6)",
    },
    direction: {
      type: "string",
      default: "both",
      valueName: "up|down|both",
      description: "Which way the faults apply: up = client to server, down = server to client",
    },
    loss: fraction("Drop this fraction of datagrams"),
    duplicate: fraction("Send this fraction of datagrams twice"),
    reorder: fraction("Hold this fraction of datagrams back and send each after the next"),
    delay: {
      type: "number",
      default: 0,
      min: 0,
      max: 600_000,
      valueName: "MS",
      description: "Delay every datagram this long",
    },
    jitter: {
      type: "number",
      default: 0,
      min: 0,
      max: 600_000,
      valueName: "MS",
      description: "And up to this much more, at random (datagrams may overtake)",
    },
    "max-hold": {
      type: "number",
      default: 1000,
      min: 1,
      max: 600_000,
      valueName: "MS",
      description: "Send a held-back datagram anyway after this long if none overtakes it",
    },
    seed: {
      type: "integer",
      min: 0,
      max: 4_294_967_295,
      description: "Seed the faults, to repeat a run exactly (default: a random seed, printed)",
    },
    "max-sessions": {
      type: "integer",
      default: 1024,
      min: 1,
      description: "Client addresses served at once (each holds a socket); the idlest is evicted",
    },
    "idle-timeout": {
      type: "number",
      default: 60,
      min: 0.01,
      valueName: "SECONDS",
      description: "Forget a client after this long without traffic",
    },
    json: { type: "boolean", description: "Print the Ctrl+C counts as one JSON object" },
  },
  notes: [
    "Needs --unstable-net (Deno.listenDatagram is unstable); `deno task udp-proxy` adds it.",
    "Try it: deno task udp-server, deno task udp-proxy --loss 0.25 --seed 1, then",
    "  deno task udp-client --port 7011 --count 20 --interval 0.05",
    "Ctrl+C prints what each direction received, sent, lost, duplicated and reordered.",
  ],
} as const;

function fraction(description: string) {
  return {
    type: "number",
    default: 0,
    min: 0,
    max: 1,
    valueName: "FRACTION",
    description: `${description} (0 to 1)`,
  } as const;
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
  const seed = values.seed ?? randomSeed();
  const root = new SeededRandom(seed);
  const where = formatHostPort(target.hostname, target.port);

  // Say so at once, rather than on every datagram, when the upstream is outside --allow-net.
  const permission = await Deno.permissions.query({ name: "net", host: where });
  if (permission.state !== "granted") {
    console.error(
      `error: permission denied: run with --allow-net=${values.host},${where} to forward to ${where}`,
    );
    return 1;
  }

  let listener: Deno.DatagramConn;
  try {
    listener = listenUdp(stripBrackets(values.host), values.port);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }

  const schedule = (stream: number, applies: boolean) =>
    new DatagramFaultSchedule(
      applies
        ? {
          loss: values.loss,
          duplicate: values.duplicate,
          reorder: values.reorder,
          delay: values.delay,
          jitter: values.jitter,
          random: (() => {
            const random = root.fork(stream);
            return () => random.next();
          })(),
        }
        : {},
    );
  // Each session draws its own two streams of decisions, so its fate does
  // not depend on how its traffic interleaves with other clients'.
  const sessions = new UdpProxySessions(listener, {
    target: { transport: "udp", ...target },
    schedule: (index, direction) =>
      direction === "up"
        ? schedule(2 * index, values.direction !== "down")
        : schedule(2 * index + 1, values.direction !== "up"),
    maxHold: values["max-hold"],
    maxSessions: values["max-sessions"],
    idleTimeout: values["idle-timeout"] * 1000,
    logger: log,
  });

  const stopListening = onShutdownSignal(() => {
    try {
      listener.close();
    } catch {
      // Already closed.
    }
  }, { logger: log });

  console.log(`listening on ${formatAddr(listener.addr)}`);
  log.info(
    `forwarding to ${where}: loss ${values.loss}, duplicate ${values.duplicate}, reorder ${values.reorder}, ` +
      `delay ${values.delay} ms, jitter ${values.jitter} ms (${values.direction}); seed ${seed} ` +
      `(repeat with --seed ${seed})`,
  );

  const buffer = new Uint8Array(65_536);
  for (;;) {
    let data: Uint8Array, from: Deno.Addr;
    try {
      [data, from] = await listener.receive(buffer);
    } catch (error) {
      if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
        break; // Closed by Ctrl+C.
      }
      // An ICMP error from an earlier send can surface here; keep serving.
      log.debug(`receive: ${(error as Error).message}`);
      continue;
    }
    sessions.forward(data, from as Deno.NetAddr);
  }

  const summary = await sessions.close(seed);
  stopListening();
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  return 0;
}

function formatSummary(summary: UdpProxySummary): string {
  const line = (name: string, c: DatagramShaperCounts) =>
    `${name}: ${c.received} received, ${c.sent} sent, ${c.lost} lost, ${c.duplicated} duplicated, ` +
    `${c.reordered} reordered${c.overflow > 0 ? `, ${c.overflow} dropped (delay queue full)` : ""}`;
  const s = summary.sessions;
  return [
    line("up (client to server)", summary.up),
    line("down (server to client)", summary.down),
    `sessions: ${s.opened} opened, ${s.expired} expired, ${s.evicted} evicted` +
    (summary.strays > 0 ? `; ${summary.strays} stray datagrams dropped` : ""),
    `seed ${summary.seed} (repeat this run with --seed ${summary.seed})`,
  ].join("\n");
}

if (import.meta.main) Deno.exit(await main());
