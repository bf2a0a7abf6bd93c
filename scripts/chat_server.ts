/**
 * # Chat server
 *
 * A multi-user chat room over plain TCP lines, usable from `nc` or `telnet`,
 * and from a web page on a second port: nicknames, rooms, commands, history,
 * and limits that keep one hostile or stuck client from hurting anyone else.
 * The rooms, nicks and commands live in `lib/chat/chat_hub.ts`, the two transports in
 * `lib/chat/chat_tcp_session.ts` and `lib/chat/chat_websocket_session.ts`, and
 * `startChatServer` (`lib/chat/chat_server.ts`) joins both to the same hub, so a browser
 * user and an `nc` user talk in the same room with the same commands.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/chat_server.ts
 * ```
 *
 * It prints `listening on 127.0.0.1:7002` (TCP) and
 * `listening on http://127.0.0.1:8002/` (the page; its WebSocket is at `/chat`).
 *
 * Try it, in two terminals (`nc 127.0.0.1 7002`), or open http://127.0.0.1:8002/:
 *
 * ```text
 * $ nc 127.0.0.1 7002
 * *** Welcome to the chat. Pick a nick: type a name, or /nick NAME
 * ...
 * alice
 * *** You are alice. /help lists the commands
 * [12:30] *** alice joined #lobby (1 here)
 * [12:31] <bob> hi alice          (what bob typed in the other terminal)
 * ```
 *
 * Each client's output goes through its own bounded queue: a client that
 * stops reading is disconnected once its queue passes 1 MiB (or stays above
 * 256 KiB for 10 s) and nobody else notices. Browser users get the same
 * queue bounds, flood control and line limit; a WebSocket Origin check
 * refuses (403) pages from other sites.
 *
 * @module
 */

import { ChatListenError, type ChatServer, startChatServer } from "../lib/chat/chat_server.ts";
import { listenOptions, parseCliOrExit } from "../lib/cli/cli.ts";
import { Logger } from "../lib/cli/log.ts";
import { formatAddr } from "../lib/net/net_addr.ts";
import { explainListenError, ListenError } from "../lib/net/net_errors.ts";

const CLI = {
  name: "chat_server.ts",
  summary: "A multi-user chat with nicks, rooms and limits: nc or chat_client.ts on --port, " +
    "a web page on --http-port, all in the same rooms.",
  usage: ["deno run --allow-net=127.0.0.1 scripts/chat_server.ts [options]"],
  options: {
    host: listenOptions(7002).host,
    port: { ...listenOptions(7002).port, description: "Port for nc/telnet (0: any free)" },
    "http-port": {
      type: "integer",
      default: 8002,
      min: 0,
      max: 65535,
      description: "Port for the web page (/) and its WebSocket (/chat) (0: any free)",
    },
    "allow-origin": {
      type: "string",
      multiple: true,
      valueName: "ORIGIN",
      description: "Also let pages from this origin join, e.g. https://app.example ('*' = any)",
    },
    "allow-host": {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description: "Also serve web requests whose Host names NAME (.NAME: subdomains too)",
    },
    "max-clients": {
      type: "integer",
      default: 10_000,
      min: 1,
      description: "Clients at once, TCP and web together (web: HTTP 503 beyond it)",
    },
    "retry-after": {
      type: "integer",
      default: 5,
      min: 0,
      valueName: "SECONDS",
      description: "The Retry-After a refused web client (503) is told",
    },
    history: { type: "integer", default: 20, min: 0, description: "Messages replayed on join" },
    "max-nick": { type: "integer", default: 20, min: 1, description: "Longest nick" },
    "max-line": {
      type: "integer",
      default: 4096,
      min: 16,
      description: "Longest line relayed, bytes (longer: error line)",
    },
    "max-line-skip": {
      type: "integer",
      default: 65_536,
      min: 16,
      description: "Unterminated line (TCP) or message (web) that disconnects, bytes",
    },
    "flood-burst": { type: "integer", default: 20, min: 1, description: "Lines in a burst" },
    "flood-rate": { type: "number", default: 10, min: 0.01, description: "Lines per second" },
    "flood-kick": {
      type: "integer",
      default: 40,
      min: 1,
      description: "Refused lines before a flooder is disconnected",
    },
    "queue-hard": {
      type: "integer",
      default: 1_048_576,
      min: 1024,
      description: "Outbound queue bytes that disconnect at once",
    },
    "queue-soft": {
      type: "integer",
      default: 262_144,
      min: 1024,
      description: "Outbound queue bytes that disconnect if held --queue-soft-seconds",
    },
    "queue-soft-seconds": { type: "number", default: 10, min: 0.001, description: "See above" },
    "registration-timeout": {
      type: "number",
      default: 60,
      min: 0,
      description: "Seconds to pick a nick (0: no limit)",
    },
    "idle-timeout": {
      type: "number",
      default: 0,
      min: 0,
      description: "Seconds without input before disconnect (0: off)",
    },
  },
  notes: [
    "Browsers: the WebSocket accepts the chat's own page (same host:port) and clients without",
    "an Origin header; pages from other origins get 403 unless listed with --allow-origin.",
    "Host check (DNS rebinding): web requests must name this server in Host (its address, or",
    "localhost when bound to loopback); other names get 403 unless listed with --allow-host.",
    "Telnet works on --port (negotiation is refused, Ctrl+C is answered); a browser pointed",
    "at --port gets an HTTP 400 naming the web page's URL.",
    "Try it: nc 127.0.0.1 7002, and open http://127.0.0.1:8002/",
  ],
} as const;

/** `1 connection`, `2 connections`. */
function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Parses flags, starts the server, and waits until Ctrl+C has shut it down.
 *
 * @param args Command-line arguments.
 * @returns The exit code: 0 after a clean shutdown, 1 if a port cannot be bound, 2 for bad usage.
 */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  if (values["queue-soft"] > values["queue-hard"]) {
    console.error("error: --queue-soft must not exceed --queue-hard\nRun with --help for usage.");
    return 2;
  }
  const log = new Logger({ level: values.quiet ? "warn" : "info" });

  let server: ChatServer;
  try {
    server = startChatServer({
      hostname: values.host,
      port: values.port,
      httpPort: values["http-port"],
      allowedOrigins: values["allow-origin"],
      maxClients: values["max-clients"],
      retryAfter: values["retry-after"],
      allowedHosts: values["allow-host"],
      allowHostFlag: "--allow-host",
      historySize: values.history,
      maxNickLength: values["max-nick"],
      maxLineBytes: values["max-line"],
      maxLineSkip: values["max-line-skip"],
      floodBurst: values["flood-burst"],
      floodRate: values["flood-rate"],
      floodDisconnectAfter: values["flood-kick"],
      queueHardLimit: values["queue-hard"],
      queueSoftLimit: values["queue-soft"],
      queueSoftTimeout: Math.round(values["queue-soft-seconds"] * 1000),
      registrationTimeout: Math.round(values["registration-timeout"] * 1000),
      idleTimeout: Math.round(values["idle-timeout"] * 1000),
      handleSignals: true,
      logger: log,
    });
  } catch (error) {
    if (!(error instanceof ChatListenError)) throw error;
    // The lib's advice names no flag; ours names the flag of the port that failed.
    const portFlag = error.listener === "http" ? "--http-port" : "--port";
    const cause = error.cause;
    console.error(
      `error: ${
        cause instanceof ListenError
          ? explainListenError(cause, cause.hostname, cause.port, { portFlag, hostFlag: "--host" })
          : error.message
      }`,
    );
    return 1;
  }
  console.log(`listening on ${formatAddr(server.addr)}`);
  if (server.httpAddr !== undefined) {
    console.log(`listening on http://${formatAddr(server.httpAddr)}/`);
  }
  await server.finished;
  const { connectionCount, messageCount } = server.hub;
  log.info(
    `shut down: served ${plural(connectionCount, "connection")}, ${
      plural(messageCount, "message")
    }`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
