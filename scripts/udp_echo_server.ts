/**
 * # UDP echo server
 *
 * Sends every datagram back to its sender, unchanged. Each datagram stands
 * alone: there are no connections, so one lost, late or malicious datagram
 * affects nothing else. Each source address gets a token bucket (`--rate`,
 * `--burst`); datagrams over it, or longer than `--max-datagram`, are
 * dropped and counted, never queued. Ctrl+C closes the socket and prints
 * the counts.
 *
 * Run (`--unstable-net` because `Deno.listenDatagram` is still unstable):
 *
 * ```sh
 * deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_echo_server.ts
 * ```
 *
 * Try it: `nc -u 127.0.0.1 7001`, type `hello`, and `hello` comes back.
 * `echo hi | socat - UDP:127.0.0.1:7001` prints `hi`.
 *
 * Built on `Deno.listenDatagram` and `socket.receive`/`socket.send`, wrapped by `serveUdp` in
 * lib/udp/serve_udp.ts (receive loop, per-source rate limit, drop counts).
 *
 * @module
 */

import { listenHostsOptions, logLevel, parseCliOrExit } from "../lib/cli/cli.ts";
import { Logger } from "../lib/cli/log.ts";
import { allowNetFlag, formatRunCommand, isPermissionError } from "../lib/cli/run_command.ts";
import { formatAddr } from "../lib/net/net_addr.ts";
import { serveHosts, type ServerGroup } from "../lib/net/serve_hosts.ts";
import { serveUdp, type UdpServer, type UdpServerStats } from "../lib/udp/serve_udp.ts";
import { explainListenError, ListenError } from "../lib/net/net_errors.ts";

/** The flags that set the listening address, for the advice when it cannot be bound. */
const LISTEN_FLAGS = { portFlag: "--port", hostFlag: "--host" };

const CLI = {
  name: "udp_echo_server.ts",
  summary: "Echo every UDP datagram back to its sender, with a per-source rate limit.",
  usage: ["deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_echo_server.ts [options]"],
  options: {
    ...listenHostsOptions(
      7001,
      "Address to bind; repeat for several (see the warning below before using 0.0.0.0 or ::)",
    ),
    rate: {
      type: "number",
      default: 10_000,
      min: 0,
      valueName: "PER_SECOND",
      description:
        "Datagrams per second echoed per source IP; the excess is dropped (0 = no limit)",
    },
    burst: {
      type: "number",
      min: 1,
      valueName: "N",
      description:
        "Datagrams a source may send in a burst above --rate (default: one second's worth)",
    },
    "max-sources": {
      type: "integer",
      default: 10_000,
      min: 1,
      description: "Source IPs the rate limit tracks (bounds memory; when full, LRU is forgotten)",
    },
    "max-datagram": {
      type: "integer",
      default: 65_507,
      min: 1,
      max: 65_535,
      valueName: "BYTES",
      description: "Drop datagrams longer than this",
    },
  },
  notes: [
    "Needs --unstable-net (Deno.listenDatagram is unstable); `deno task udp-server` adds it.",
    "",
    "Why 127.0.0.1 by default: UDP source addresses are trivial to forge, so anyone can send",
    "a datagram 'from' a victim's address and make an echo server on a public interface",
    "send its reply to the victim (a reflector, like the old chargen/echo DDoS attacks).",
    "Use --host 0.0.0.0 (or ::) only on purpose, behind a firewall, with a modest --rate.",
    "",
    "A full source table (--max-sources) never locks a newcomer out: the source seen least",
    "recently is forgotten to make room (as nginx's limit_req does). If it was still over its",
    "--rate its limit restarts when it returns, so with more active sources than --max-sources",
    "each may get more than --rate; the shutdown line counts these as 'sources evicted'.",
    "",
    "Datagram sizes: 65507 bytes is the most UDP carries over IPv4 (65527 over IPv6); the",
    "sender's OS refuses anything larger ('Message too long'). Above the path MTU (1472",
    "bytes of payload on Ethernet) the OS fragments the datagram, and losing any fragment",
    "loses it all. Datagrams longer than --max-datagram are dropped and counted.",
    "",
    "Benchmarking with udp_client.ts --bench? Start the server with --rate 0: one client",
    "easily sends more than 10000 datagrams/s, and the excess would be dropped and counted lost.",
    "",
    "Both loopbacks at once: --host 127.0.0.1 --host ::1 (one socket each, one port for both).",
    "Try it: nc -u 127.0.0.1 7001   (type a line; it comes back)",
  ],
} as const;

/**
 * Formats the counters as the one line printed at shutdown.
 *
 * @param stats The server's counters (summed over its sockets).
 * @returns `received 10, echoed 8, dropped 2 (rate limit 2, oversize 0), sources evicted 0, ...`.
 */
export function formatStats(stats: UdpServerStats): string {
  const dropped = stats.rateLimited + stats.oversize;
  return `received ${stats.received}, echoed ${stats.replied}, dropped ${dropped} ` +
    `(rate limit ${stats.rateLimited}, oversize ${stats.oversize}), ` +
    `sources evicted ${stats.sourcesEvicted}, send errors ${stats.sendErrors}`;
}

/**
 * Adds up the counters of several sockets (one per `--host`).
 *
 * @param all The counters of each socket.
 * @returns Their sums.
 */
export function sumStats(all: readonly UdpServerStats[]): UdpServerStats {
  const sum: UdpServerStats = {
    received: 0,
    replied: 0,
    rateLimited: 0,
    sourcesEvicted: 0,
    oversize: 0,
    sendErrors: 0,
    handlerErrors: 0,
  };
  for (const stats of all) {
    for (const key of Object.keys(sum) as (keyof UdpServerStats)[]) sum[key] += stats[key];
  }
  return sum;
}

/** Starts the server from command-line flags; resolves with the exit code after shutdown. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const log = new Logger({ level: logLevel(values) });

  let group: ServerGroup<UdpServer>;
  try {
    // One socket per --host, all on one port. The echo hands back the
    // receive buffer's view; the server sends it before receiving the next
    // datagram, so no copy is needed.
    group = await serveHosts(values.host, (hostname, port) =>
      serveUdp((datagram) => datagram, {
        hostname,
        port,
        rate: values.rate,
        burst: values.burst,
        maxSources: values["max-sources"],
        maxDatagram: values["max-datagram"],
        logger: log,
      }), { port: values.port, handleSignals: true, logger: log });
  } catch (error) {
    // The lib's advice names no flag; ours does.
    const message = error instanceof ListenError
      ? explainListenError(error, error.hostname, error.port, LISTEN_FLAGS)
      : (error as Error).message;
    console.error(`error: ${message}`);
    if (isPermissionError(error)) {
      console.error(
        `run: ${formatRunCommand(["--unstable-net", allowNetFlag(values.host)], { args })}`,
      );
    }
    return 1;
  }
  for (const addr of group.addrs) console.log(`listening on ${formatAddr(addr)}`);
  await group.finished;
  log.info(`shut down: ${formatStats(sumStats(group.servers.map((server) => server.stats)))}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
