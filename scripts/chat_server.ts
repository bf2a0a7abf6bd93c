/**
 * # Chat server
 *
 * A multi-user chat room over plain TCP lines, usable from `nc` or `telnet`:
 * nicknames, rooms, commands, history, and limits that keep one hostile or
 * stuck client from hurting anyone else. The rooms, nicks and commands live in
 * `lib/chat_hub.ts`; this script connects TCP clients to them.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/chat_server.ts
 * ```
 *
 * Try it, in two terminals (`nc 127.0.0.1 7002`):
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
 * 256 KiB for 10 s) and nobody else notices.
 *
 * @module
 */

import {
  ChatHub,
  type ChatHubOptions,
  type ChatMember,
  type ChatSession,
} from "../lib/chat_hub.ts";
import type { ChatLine } from "../lib/chat_line.ts";
import { ChunkReader } from "../lib/chunk_reader.ts";
import { parseCliOrExit } from "../lib/cli.ts";
import { FrameTooLargeError } from "../lib/frame_errors.ts";
import { LineDecoder } from "../lib/line_decoder.ts";
import { Logger } from "../lib/log.ts";
import { formatAddr } from "../lib/net_addr.ts";
import { isDisconnectError } from "../lib/net_errors.ts";
import { OutboundQueue, type OutboundQueueFailure } from "../lib/outbound_queue.ts";
import {
  closeQuietly,
  type ConnectionContext,
  serveTcp,
  type TcpServer,
} from "../lib/serve_tcp.ts";

/** How long a closing client gets to receive its last lines (a goodbye, a notice), in ms. */
const CLOSE_GRACE_MS = 1_000;
/** The first line of an HTTP request: someone pointed a browser or curl at the chat port. */
const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d(\.\d)?$/;
/** A TLS record starts with content type 22 (handshake), then version 3.x. */
const TLS_HANDSHAKE = 0x16;

/** Options for {@linkcode startChatServer}: the hub's limits plus the TCP ones. */
export interface ChatServerOptions extends ChatHubOptions {
  /**
   * The address to bind.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one.
   *
   * @default {7002}
   */
  port?: number;
  /**
   * Clients served at once; the next ones get a one-line refusal.
   *
   * @default {10000}
   */
  maxClients?: number;
  /**
   * An unterminated line longer than this many bytes disconnects its client
   * (lines up to `maxLineBytes` are relayed; longer ones get an error line).
   *
   * @default {65536}
   */
  maxLineSkip?: number;
  /**
   * A client's outbound queue past this many bytes: disconnect at once.
   *
   * @default {1048576}
   */
  queueHardLimit?: number;
  /**
   * A client's outbound queue above this many bytes for `queueSoftTimeout`: disconnect.
   *
   * @default {262144}
   */
  queueSoftLimit?: number;
  /**
   * Milliseconds a queue may stay above `queueSoftLimit`.
   *
   * @default {10000}
   */
  queueSoftTimeout?: number;
  /**
   * Shut down on SIGINT and SIGTERM.
   *
   * @default {false}
   */
  handleSignals?: boolean;
  /**
   * Where connects, disconnects and errors are logged.
   *
   * @default {new Logger()}
   */
  logger?: Logger;
}

/** A running chat server. */
export interface ChatServer {
  /** The bound address (read the port here after `port: 0`). */
  readonly addr: Deno.NetAddr;
  /** The rooms and sessions. */
  readonly hub: ChatHub;
  /** Resolves when the server has shut down and every client is gone. */
  readonly finished: Promise<void>;
  /** Bytes waiting in all clients' outbound queues now: what slow readers cost in memory. */
  readonly queuedBytes: number;
  /** Tells every client "server shutting down", closes them, stops listening. */
  shutdown(): Promise<void>;
}

/**
 * A chat member on a TCP connection: `send()` enqueues the line's bytes on a
 * bounded {@linkcode OutboundQueue} that drains at the client's own pace.
 */
class TcpMember implements ChatMember {
  #conn: Deno.Conn;
  #queue: OutboundQueue;
  #closed: Promise<void> | undefined;

  constructor(conn: Deno.Conn, queue: OutboundQueue) {
    this.#conn = conn;
    this.#queue = queue;
  }

  send(line: ChatLine): void {
    this.#queue.enqueue(line.bytes);
  }

  close(finalLine?: ChatLine): void {
    this.#closed ??= this.#queue.end(finalLine?.bytes, CLOSE_GRACE_MS)
      // Closing the connection also ends the handler's pending read.
      .then(() => closeQuietly(this.#conn));
  }

  /** Resolves once `close()` has flushed (or given up) and closed the connection. */
  get closed(): Promise<void> {
    return this.#closed ?? Promise.resolve();
  }
}

/**
 * Starts a chat server.
 *
 * @param options Address, limits and logging.
 * @returns The running server.
 * @throws {Error} If the address cannot be bound; the message gives advice.
 */
export function startChatServer(options: ChatServerOptions = {}): ChatServer {
  const log = options.logger ?? new Logger();
  const hub = new ChatHub(options);
  const maxLineBytes = hub.options.maxLineBytes;
  const maxLineSkip = options.maxLineSkip ?? 65_536;
  const queues = new Set<OutboundQueue>();

  async function handle(conn: Deno.Conn, ctx: ConnectionContext): Promise<void> {
    const who = `#${ctx.id} ${formatAddr(ctx.remoteAddr)}`;
    // Chat lines are small and should go out at once; the outbound queue already
    // joins lines written in the same moment, which is what Nagle's algorithm is for.
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    const onShutdown = () => hub.close("server shutting down");
    ctx.signal.addEventListener("abort", onShutdown);

    // Set just below; the queue can fail (and call dropSlowClient) only once lines flow.
    let session: ChatSession | undefined = undefined;
    const queue = new OutboundQueue(conn, {
      hardLimit: options.queueHardLimit,
      softLimit: options.queueSoftLimit,
      softTimeout: options.queueSoftTimeout,
      onFailure: (failure) => dropSlowClient(failure),
    });
    function dropSlowClient(failure: OutboundQueueFailure): void {
      if (failure.kind === "writeError") return session?.disconnect("connection lost");
      log.warn(`${who}: ${failure.message}; disconnecting`);
      session?.disconnect(
        "too slow",
        "*** disconnected: you are not reading your messages fast enough",
      );
    }
    queues.add(queue);
    const member = new TcpMember(conn, queue);
    session = hub.connect(member);
    log.info(`${who}: connected (${hub.sessionCount} online)`);

    const reader = new ChunkReader(conn);
    // Lines up to maxLineBytes are handled; the decoder skips the rest of a
    // longer line without buffering it, and we count what it skipped.
    const decoder = new LineDecoder({ maxLineLength: maxLineBytes });
    let skipped = 0;
    let first = true;
    try {
      while (!session.closed) {
        const chunk = await reader.read();
        if (chunk === null) break;
        if (first && chunk[0] === TLS_HANDSHAKE) {
          session.disconnect(
            "not a chat client",
            "*** error: this chat speaks plain text, not TLS",
          );
          break;
        }
        decoder.push(chunk);
        if (decoder.skipping) skipped += chunk.length;
        for (;;) {
          let line: string | null;
          try {
            line = decoder.next();
          } catch (error) {
            if (!(error instanceof FrameTooLargeError)) throw error;
            session.rejectLongLine(error.size);
            skipped = error.size;
            continue;
          }
          if (line === null) break;
          if (first && HTTP_REQUEST_LINE.test(line)) {
            session.disconnect(
              "not a chat client",
              "*** error: this is a line-based chat server, not HTTP: connect with nc or telnet",
            );
            break;
          }
          first = false;
          session.receive(line);
        }
        first = false;
        if (!decoder.skipping) skipped = 0;
        if (skipped > maxLineSkip) {
          session.disconnect(
            "line too long",
            `*** error: a line longer than ${maxLineSkip} bytes without a newline; disconnecting`,
          );
        }
      }
      // An unterminated last line (the client vanished mid-line) is dropped, not relayed.
    } catch (error) {
      if (!isDisconnectError(error)) log.error(`${who}: ${error}`);
    } finally {
      ctx.signal.removeEventListener("abort", onShutdown);
      session.disconnect("connection closed");
      await member.closed;
      queues.delete(queue);
      log.info(`${who}: disconnected (${hub.sessionCount} online)`);
    }
  }

  const server: TcpServer = serveTcp(handle, {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 7002,
    maxConnections: options.maxClients ?? 10_000,
    busyMessage: "*** error: the chat is full, try again later\n",
    gracePeriod: CLOSE_GRACE_MS * 2,
    handleSignals: options.handleSignals ?? false,
    logger: log,
  });
  // With nobody connected no handler calls hub.close(); its timers must still stop.
  const finished = server.finished.then(() => hub.close());
  return {
    addr: server.addr,
    hub,
    finished,
    get queuedBytes() {
      let total = 0;
      for (const queue of queues) total += queue.bufferedBytes;
      return total;
    },
    shutdown: () => server.shutdown().then(() => finished),
  };
}

/** Parses flags, starts the server, and waits until Ctrl+C has shut it down. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseCliOrExit(args, {
    name: "chat_server.ts",
    summary: "A multi-user line chat with nicks, rooms and limits; use nc or chat_client.ts.",
    usage: ["deno run --allow-net=127.0.0.1 scripts/chat_server.ts [options]"],
    options: {
      host: { type: "string", default: "127.0.0.1", description: "Address to bind" },
      port: {
        type: "integer",
        default: 7002,
        min: 0,
        max: 65535,
        description: "Port (0: any free)",
      },
      "max-clients": { type: "integer", default: 10_000, min: 1, description: "Clients at once" },
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
        description: "Unterminated line length that disconnects, bytes",
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
    notes: ["Try it: nc 127.0.0.1 7002"],
  });
  if (values["queue-soft"] > values["queue-hard"]) {
    console.error("error: --queue-soft must not exceed --queue-hard\nRun with --help for usage.");
    Deno.exit(2);
  }
  const log = new Logger({ level: values.quiet ? "warn" : "info" });

  let server: ChatServer;
  try {
    server = startChatServer({
      hostname: values.host,
      port: values.port,
      maxClients: values["max-clients"],
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
    console.error(`error: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
  console.log(`listening on ${formatAddr(server.addr)}`);
  await server.finished;
  log.info("chat server stopped");
}

if (import.meta.main) await main();
