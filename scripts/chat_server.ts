/**
 * # Chat server
 *
 * A multi-user chat room over plain TCP lines, usable from `nc` or `telnet`,
 * and from a web page on a second port: nicknames, rooms, commands, history,
 * and limits that keep one hostile or stuck client from hurting anyone else.
 * The rooms, nicks and commands live in `lib/chat/chat_hub.ts`; this script
 * connects TCP clients and WebSocket clients to the same hub, so a browser
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
 * Built on `Deno.listen` (two listeners), wrapped by `serveTcp` in lib/tcp/serve_tcp.ts; the web
 * port upgrades with `upgradeWebSocket` in lib/websocket/websocket_upgrade.ts.
 *
 * @module
 */

import {
  ChatHub,
  type ChatHubOptions,
  type ChatMember,
  type ChatSession,
} from "../lib/chat/chat_hub.ts";
import type { ChatLine } from "../lib/chat/chat_line.ts";
import { ChunkReader } from "../lib/io/chunk_reader.ts";
import { parseCliOrExit } from "../lib/cli/cli.ts";
import { FrameTooLargeError } from "../lib/framing/frame_errors.ts";
import { HttpError } from "../lib/http/http_error.ts";
import { readRequestHead } from "../lib/http/http_request_head.ts";
import { encodeHttpErrorResponse, encodeHttpResponse } from "../lib/http/http_response.ts";
import { encodeLine, LineDecoder } from "../lib/framing/line_decoder.ts";
import { Logger } from "../lib/cli/log.ts";
import { formatAddr } from "../lib/net/net_addr.ts";
import { isDisconnectError } from "../lib/net/net_errors.ts";
import { OutboundQueue, type OutboundQueueFailure } from "../lib/io/outbound_queue.ts";
import { onShutdownSignal } from "../lib/net/shutdown_signals.ts";
import { closeQuietly } from "../lib/io/close_quietly.ts";
import { type ConnectionContext, serveTcp, type TcpServer } from "../lib/tcp/serve_tcp.ts";
import { CLOSE_CODE, truncateCloseReason } from "../lib/websocket/websocket_close.ts";
import type { WebSocketConnection } from "../lib/websocket/websocket_connection.ts";
import { encodeFrame, OPCODE } from "../lib/websocket/websocket_frame.ts";
import { createOriginPolicy, isWebSocketUpgrade } from "../lib/websocket/websocket_handshake.ts";
import { upgradeWebSocket } from "../lib/websocket/websocket_upgrade.ts";
import { writeAll } from "../lib/io/write_all.ts";
import { CHAT_PAGE_HEADERS, CHAT_PAGE_HTML, CHAT_WEBSOCKET_PATH } from "../lib/chat/chat_page.ts";

/** How long a closing client gets to receive its last lines (a goodbye, a notice), in ms. */
const CLOSE_GRACE_MS = 1_000;
/** The first line of an HTTP request: someone pointed a browser or curl at the chat port. */
const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d(\.\d)?$/;
/** A TLS record starts with content type 22 (handshake), then version 3.x. */
const TLS_HANDSHAKE = 0x16;
/** What everyone is told on Ctrl+C; WebSocket members then get Close 1001 ("going away"). */
const SHUTDOWN_REASON = "server shutting down";
/** Time a browser gets to send its HTTP request head. */
const HTTP_HEAD_TIMEOUT_MS = 10_000;
const UTF8 = new TextDecoder();

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
   * The port of the web side: the page at `GET /` and its WebSocket endpoint `/chat`, on
   * `hostname`. 0 picks a free one; `undefined` serves TCP only.
   *
   * @default {undefined}
   */
  httpPort?: number;
  /**
   * Origins whose pages may open the chat's WebSocket besides the chat's own page (`"*"`: any).
   * Without this check any web site a user visits could join the chat in their name.
   *
   * @default {[]}
   */
  allowedOrigins?: string[];
  /**
   * Clients served at once, TCP and WebSocket together; the next ones are refused (one line
   * on TCP, HTTP 503 on the web side).
   *
   * @default {10000}
   */
  maxClients?: number;
  /**
   * An unterminated line longer than this many bytes disconnects its client
   * (lines up to `maxLineBytes` are relayed; longer ones get an error line).
   * On the web side, a WebSocket message longer than this is refused from its
   * frame header with close code 1009.
   *
   * @default {65536}
   */
  maxLineSkip?: number;
  /**
   * A client's outbound queue past this many bytes: disconnect at once. The same bound holds
   * for a WebSocket member's send queue (frame bytes).
   *
   * @default {1048576}
   */
  queueHardLimit?: number;
  /**
   * A client's outbound queue above this many bytes for `queueSoftTimeout`: disconnect.
   * For a WebSocket member it is checked at each send and when the timer fires.
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
   * Shut down on SIGINT and SIGTERM (a second Ctrl+C exits at once).
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
  /** The web side's address, when `httpPort` was given. */
  readonly httpAddr: Deno.NetAddr | undefined;
  /** The rooms and sessions. */
  readonly hub: ChatHub;
  /** Resolves when the server has shut down and every client is gone. */
  readonly finished: Promise<void>;
  /** Bytes waiting in all clients' outbound queues now: what slow readers cost in memory. */
  readonly queuedBytes: number;
  /** Tells every client "server shutting down", closes them, stops listening on both ports. */
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

/** Text frames of chat lines: a line broadcast to 100 browsers is framed once, not 100 times. */
const FRAMES = new WeakMap<ChatLine, Uint8Array>();

function frameOf(line: ChatLine): Uint8Array {
  let frame = FRAMES.get(line);
  if (frame === undefined) {
    frame = encodeFrame(OPCODE.TEXT, line.text);
    FRAMES.set(line, frame);
  }
  return frame;
}

/** The queue bounds of a {@linkcode WebSocketMember}, the same numbers as a TCP member's. */
interface QueueBounds {
  hardLimit: number;
  softLimit: number;
  softTimeout: number;
}

/**
 * A chat member on a WebSocket: one chat line per text message.
 *
 * The connection's own send queue enforces the hard bound (it is created with
 * `maxBufferedAmount: hardLimit`): a send that would cross it drops the queued frames and closes
 * with 1008, as a TCP member's queue drops its data. The soft bound (above `softLimit` for
 * `softTimeout`) is checked here, at each send and when the timer fires, because the connection
 * has only one bound.
 */
class WebSocketMember implements ChatMember {
  #ws: WebSocketConnection;
  #bounds: QueueBounds;
  #onSlow: (message: string) => void;
  #softTimer: ReturnType<typeof setTimeout> | undefined;
  #closing = false;

  constructor(ws: WebSocketConnection, bounds: QueueBounds, onSlow: (message: string) => void) {
    this.#ws = ws;
    this.#bounds = bounds;
    this.#onSlow = onSlow;
  }

  send(line: ChatLine): void {
    if (this.#closing) return;
    const frame = frameOf(line);
    const buffered = this.#ws.bufferedAmount + frame.length;
    if (!this.#ws.sendFrame(frame)) {
      if (buffered > this.#bounds.hardLimit) {
        this.#onSlow(
          `Cannot queue output: ${buffered} bytes exceed the hard limit of ` +
            `${this.#bounds.hardLimit} bytes`,
        );
      }
      return;
    }
    if (buffered <= this.#bounds.softLimit) {
      clearTimeout(this.#softTimer);
      this.#softTimer = undefined;
      return;
    }
    this.#softTimer ??= setTimeout(() => {
      this.#softTimer = undefined;
      const now = this.#ws.bufferedAmount;
      if (now <= this.#bounds.softLimit) return;
      this.#onSlow(
        `Cannot queue output: more than ${this.#bounds.softLimit} bytes queued for ` +
          `${this.#bounds.softTimeout} ms (${now} now)`,
      );
    }, this.#bounds.softTimeout);
  }

  close(finalLine?: ChatLine): void {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#softTimer);
    let code: number = CLOSE_CODE.NORMAL;
    let reason = "";
    if (finalLine !== undefined) {
      const frame = frameOf(finalLine);
      // The last line goes out only if it fits; the close reason repeats it anyway.
      if (this.#ws.bufferedAmount + frame.length <= this.#bounds.hardLimit) {
        this.#ws.sendFrame(frame);
      }
      reason = truncateCloseReason(finalLine.text.replace(/^\*\*\* /, ""));
      if (reason === SHUTDOWN_REASON) code = CLOSE_CODE.GOING_AWAY;
      else if (reason.startsWith("disconnected")) code = CLOSE_CODE.POLICY_VIOLATION;
    }
    this.#ws.close(code, reason).catch(() => {});
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
  const maxClients = options.maxClients ?? 10_000;
  const bounds: QueueBounds = {
    hardLimit: options.queueHardLimit ?? 1_048_576,
    softLimit: options.queueSoftLimit ?? 262_144,
    softTimeout: options.queueSoftTimeout ?? 10_000,
  };
  const queues = new Set<OutboundQueue>();
  const sockets = new Set<WebSocketConnection>();
  const originPolicy = createOriginPolicy(options.allowedOrigins ?? []);
  // One switch for both listeners: shutdown() and Ctrl+C abort it.
  const stop = new AbortController();

  async function handle(conn: Deno.Conn, ctx: ConnectionContext): Promise<void> {
    const who = `#${ctx.id} ${formatAddr(ctx.remoteAddr)}`;
    // Chat lines are small and should go out at once; the outbound queue already
    // joins lines written in the same moment, which is what Nagle's algorithm is for.
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    if (hub.sessionCount >= maxClients) {
      // The limit counts browsers too; the TCP listener alone only counts TCP clients.
      await writeAll(conn, encodeLine("*** error: the chat is full, try again later"));
      return;
    }
    const onShutdown = () => hub.close(SHUTDOWN_REASON);
    ctx.signal.addEventListener("abort", onShutdown);

    // Set just below; the queue can fail (and call dropSlowClient) only once lines flow.
    let session: ChatSession | undefined = undefined;
    const queue = new OutboundQueue(conn, {
      ...bounds,
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

  /** The web side: `GET /` serves the page, `/chat` upgrades to a WebSocket chat member. */
  async function handleWeb(conn: Deno.Conn, ctx: ConnectionContext): Promise<void> {
    const who = `#${ctx.id} ${formatAddr(ctx.remoteAddr)} (web)`;
    const reader = new ChunkReader(conn);
    let ws: WebSocketConnection;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), HTTP_HEAD_TIMEOUT_MS);
    try {
      const request = await readRequestHead(reader, {
        signal: AbortSignal.any([deadline.signal, ctx.signal]),
      });
      if (request === null) return;
      const { head } = request;
      if (!URL.canParse(head.target, "http://host")) {
        throw new HttpError(400, `Malformed request target: ${head.target.slice(0, 80)}`);
      }
      const path = new URL(head.target, "http://host").pathname;
      if (!isWebSocketUpgrade(head)) {
        if (path === "/" && head.method === "GET") {
          await writeAll(
            conn,
            encodeHttpResponse(200, { headers: { ...CHAT_PAGE_HEADERS }, body: CHAT_PAGE_HTML }),
          );
          return;
        }
        if (path === "/") throw new HttpError(405, `Cannot ${head.method} /: only GET is served`);
        throw path === CHAT_WEBSOCKET_PATH
          ? new HttpError(426, `${path} is the chat's WebSocket: open the page at / instead`, {
            Upgrade: "websocket",
          })
          : new HttpError(404, `Nothing at ${path}: the chat page is at /`);
      }
      if (path !== CHAT_WEBSOCKET_PATH) {
        throw new HttpError(404, `No WebSocket endpoint at ${path}: use ${CHAT_WEBSOCKET_PATH}`);
      }
      if (hub.sessionCount >= maxClients) {
        throw new HttpError(503, "The chat is full, try again later");
      }
      // A browser sends Origin with every WebSocket request; the policy refuses (403) pages
      // from other sites, which would otherwise join the chat in the user's name.
      ws = await upgradeWebSocket(conn, reader, request, {
        originPolicy,
        // Lines up to maxLineBytes are relayed and longer ones get an error line, as on TCP;
        // a message past maxLineSkip is refused from its frame header (close 1009).
        maxMessageSize: maxLineSkip,
        maxBufferedAmount: bounds.hardLimit,
        closeTimeout: CLOSE_GRACE_MS,
      });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      log.info(`${who}: refused with ${error.status}: ${error.message}`);
      await writeAll(conn, encodeHttpErrorResponse(error)).catch(() => {});
      return;
    } finally {
      clearTimeout(timer);
    }

    let session: ChatSession | undefined = undefined;
    const member = new WebSocketMember(ws, bounds, (message) => {
      log.warn(`${who}: ${message}; disconnecting`);
      session?.disconnect(
        "too slow",
        "*** disconnected: you are not reading your messages fast enough",
      );
    });
    sockets.add(ws);
    const onShutdown = () => hub.close(SHUTDOWN_REASON);
    ctx.signal.addEventListener("abort", onShutdown);
    session = hub.connect(member);
    log.info(`${who}: connected over WebSocket (${hub.sessionCount} online)`);
    let reason = "connection closed";
    try {
      for (let message; (message = await ws.receive()) !== null;) {
        // Invalid UTF-8 in a binary message is replaced, as on TCP; a text message was checked.
        const text = message.type === "text" ? message.data : UTF8.decode(message.data);
        // One message is one line; pasted lines count one by one, for flood control too.
        for (const line of text.replace(/\r?\n$/, "").split(/\r?\n/)) {
          if (session.closed) break;
          session.receive(line);
        }
        if (session.closed) break;
      }
      const { code } = await ws.closed;
      if (code === CLOSE_CODE.MESSAGE_TOO_BIG) reason = "message too big";
      if (code === CLOSE_CODE.PROTOCOL_ERROR || code === CLOSE_CODE.INVALID_PAYLOAD) {
        reason = "protocol error";
      }
    } catch (error) {
      if (!isDisconnectError(error)) log.error(`${who}: ${error}`);
    } finally {
      ctx.signal.removeEventListener("abort", onShutdown);
      session.disconnect(reason);
      const closed = await ws.closed;
      sockets.delete(ws);
      log.info(
        `${who}: disconnected with ${closed.code}${closed.reason ? ` ${closed.reason}` : ""} ` +
          `(${hub.sessionCount} online)`,
      );
    }
  }

  const hostname = options.hostname ?? "127.0.0.1";
  const server: TcpServer = serveTcp(handle, {
    hostname,
    port: options.port ?? 7002,
    maxConnections: maxClients,
    busyMessage: "*** error: the chat is full, try again later\n",
    gracePeriod: CLOSE_GRACE_MS * 2,
    signal: stop.signal,
    logger: log,
  });
  let web: TcpServer | undefined;
  if (options.httpPort !== undefined) {
    try {
      web = serveTcp(handleWeb, {
        hostname,
        port: options.httpPort,
        maxConnections: maxClients,
        gracePeriod: CLOSE_GRACE_MS * 2,
        signal: stop.signal,
        logger: log,
      });
    } catch (error) {
      stop.abort(); // the TCP listener is already bound: release it
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(message.replaceAll("--port", "--http-port"), { cause: error });
    }
  }
  // One handler for both listeners (not one per TcpServer): one "shutting down" line, one stop.
  const removeSignalListeners = options.handleSignals
    ? onShutdownSignal(() => stop.abort(), { logger: log })
    : undefined;
  // With nobody connected no handler calls hub.close(); its timers must still stop.
  const finished = Promise.all([server.finished, web?.finished]).then(() => {
    hub.close(SHUTDOWN_REASON);
    removeSignalListeners?.();
  });
  return {
    addr: server.addr,
    httpAddr: web?.addr,
    hub,
    finished,
    get queuedBytes() {
      let total = 0;
      for (const queue of queues) total += queue.bufferedBytes;
      for (const ws of sockets) total += ws.bufferedAmount;
      return total;
    },
    shutdown: () => {
      stop.abort();
      return finished;
    },
  };
}

/** Parses flags, starts the server, and waits until Ctrl+C has shut it down. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseCliOrExit(args, {
    name: "chat_server.ts",
    summary: "A multi-user chat with nicks, rooms and limits: nc or chat_client.ts on --port, " +
      "a web page on --http-port, all in the same rooms.",
    usage: ["deno run --allow-net=127.0.0.1 scripts/chat_server.ts [options]"],
    options: {
      host: { type: "string", default: "127.0.0.1", description: "Address to bind" },
      port: {
        type: "integer",
        default: 7002,
        min: 0,
        max: 65535,
        description: "Port for nc/telnet (0: any free)",
      },
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
      "max-clients": {
        type: "integer",
        default: 10_000,
        min: 1,
        description: "Clients at once, TCP and web together",
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
      "Try it: nc 127.0.0.1 7002, and open http://127.0.0.1:8002/",
    ],
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
      httpPort: values["http-port"],
      allowedOrigins: values["allow-origin"],
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
  // The page's URL, with its slash: scripts that take the port from a line ending in ":PORT" keep
  // finding the TCP one.
  console.log(`listening on http://${formatAddr(server.httpAddr!)}/`);
  await server.finished;
  log.info("chat server stopped");
}

if (import.meta.main) await main();
