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
 * @module
 */

import { listenOptions, parseCliOrExit } from "../lib/cli/cli.ts";
import { Logger } from "../lib/cli/log.ts";
import { formatAddr, stripBrackets } from "../lib/net/net_addr.ts";
import { serveUdp, type UdpServer, type UdpServerStats } from "../lib/udp/serve_udp.ts";

const CLI = {
  name: "udp_echo_server.ts",
  summary: "Echo every UDP datagram back to its sender, with a per-source rate limit.",
  usage: ["deno run --unstable-net --allow-net=127.0.0.1 scripts/udp_echo_server.ts [options]"],
  options: {
    ...listenOptions(7001, "Address to bind (see the warning below before using 0.0.0.0 or ::)"),
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
    "Try it: nc -u 127.0.0.1 7001   (type a line; it comes back)",
  ],
} as const;

/**
 * Formats the counters as the one line printed at shutdown.
 *
 * @param stats The server's counters.
 * @returns `received 10, echoed 8, dropped 2 (rate limit 2, oversize 0), sources evicted 0, ...`.
 */
export function formatStats(stats: UdpServerStats): string {
  const dropped = stats.rateLimited + stats.oversize;
  return `received ${stats.received}, echoed ${stats.replied}, dropped ${dropped} ` +
    `(rate limit ${stats.rateLimited}, oversize ${stats.oversize}), ` +
    `sources evicted ${stats.sourcesEvicted}, send errors ${stats.sendErrors}`;
}

/** Starts the server from command-line flags; resolves with the exit code after shutdown. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const log = new Logger({ level: values.quiet ? "warn" : "info" });

  let server: UdpServer;
  try {
    // The echo hands back the receive buffer's view; the server sends it
    // before receiving the next datagram, so no copy is needed.
    server = serveUdp((datagram) => datagram, {
      hostname: stripBrackets(values.host),
      port: values.port,
      rate: values.rate,
      burst: values.burst,
      maxSources: values["max-sources"],
      maxDatagram: values["max-datagram"],
      handleSignals: true,
      logger: log,
    });
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  console.log(`listening on ${formatAddr(server.addr)}`);
  await server.finished;
  log.warn(`shut down: ${formatStats(server.stats)}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
