/**
 * A WebSocket connection over a TCP or TLS connection, after the opening handshake: messages in
 * and out, the closing handshake, a heartbeat and a bounded send queue.
 *
 * @module
 */

import type { ChunkReader } from "../io/chunk_reader.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import type { OutboundQueueFailure } from "../io/outbound_queue.ts";
import { Heartbeat } from "./_heartbeat.ts";
import { Inbox } from "./_inbox.ts";
import { MessageDeflater } from "./_message_deflater.ts";
import { OutgoingFrames } from "./_outgoing_frames.ts";
import { CLOSE_CODE, encodeClosePayload, truncateCloseReason } from "./websocket_close.ts";
import {
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_MESSAGE_SIZE,
  WebSocketDecoder,
  type WebSocketEvent,
} from "./websocket_decoder.ts";
import type { PerMessageDeflate } from "./websocket_deflate.ts";
import { encodeFrame, MAX_CONTROL_PAYLOAD, OPCODE, TextFrame } from "./websocket_frame.ts";
import { WebSocketProtocolError } from "./websocket_protocol_error.ts";
import {
  type ControlOpcode,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  type WebSocketCloseInfo,
  type WebSocketConnectionOptions,
  type WebSocketMessage,
  type WebSocketReadyState,
} from "./websocket_connection_options.ts";

/** The peer's Close frame, held in the inbox behind the messages that preceded it. */
type PeerClose = { type: "close"; code: number; reason: string };
/** A protocol error, held in the inbox behind the valid messages that preceded it. */
type DeferredFailure = { type: "fail"; code: number; reason: string };

/**
 * One WebSocket connection over a `Deno.Conn` (TCP or TLS), after a successful handshake.
 *
 * Reading is pulled: bytes are read from the socket only while the application waits in
 * {@linkcode WebSocketConnection.receive} (or `for await`), so a slow consumer pushes back on
 * the peer through TCP instead of buffering. Pings are answered, Close frames are answered and
 * checked, protocol errors are answered with a Close frame carrying the right code (1002, 1007,
 * 1009), and {@linkcode WebSocketConnection.closed} resolves exactly once, whichever way the
 * connection ends.
 *
 * Sending never blocks: frames go to a bounded queue written in the background, in order, with
 * small frames joined into one write.
 *
 * The connection owns `conn` and closes it when the WebSocket closes.
 *
 * @example An echo handler
 * ```ts ignore
 * import { WebSocketConnection } from "./websocket_connection.ts";
 *
 * async function echo(ws: WebSocketConnection) {
 *   for await (const message of ws) ws.send(message.data);
 *   const { code, reason } = await ws.closed;
 *   console.log(`closed with ${code} ${reason}`);
 * }
 * ```
 */
export class WebSocketConnection implements AsyncIterable<WebSocketMessage> {
  /** The subprotocol agreed in the handshake, if any. */
  readonly protocol: string | undefined;
  /** Resolves once, when the connection has ended and the socket is closed. */
  readonly closed: Promise<WebSocketCloseInfo>;

  #conn: Deno.Conn;
  #reader: ChunkReader;
  #decoder: WebSocketDecoder;
  #out: OutgoingFrames;
  #mask: boolean;
  #deflate: PerMessageDeflate | undefined;
  #deflater: MessageDeflater | undefined;
  #overflowCloseCode: number;
  #closeTimeout: number;
  #onControl: ((opcode: ControlOpcode, payload: Uint8Array) => void) | undefined;
  #receiveAfterClose: boolean;

  #state: WebSocketReadyState = "open";
  // Messages not yet returned by receive(), then the peer's Close frame or the protocol error
  // that came after them in the same chunk: like end-of-stream after data, either takes effect
  // once the application has read (and could answer) what preceded it.
  #inbox = new Inbox<WebSocketMessage | PeerClose | DeferredFailure>();
  #reading: Promise<void> | undefined;
  #closeReceived: { code: number; reason: string } | undefined;
  #closeSent: { code: number; reason: string } | undefined;
  #failure: WebSocketCloseInfo | undefined; // set when we failed the connection
  #finished = false;
  #resolveClosed: (info: WebSocketCloseInfo) => void;

  #heartbeat: Heartbeat;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Wraps a connection whose handshake is complete.
   *
   * @param conn The TCP or TLS connection; the WebSocket closes it at the end.
   * @param reader The reader the handshake was read with (it may hold buffered state).
   * @param options Role, limits and timers.
   * @throws {RangeError} If a limit is invalid, or if `perMessageDeflate` lets the peer keep its
   * compression context between messages (only no context takeover is supported).
   */
  constructor(conn: Deno.Conn, reader: ChunkReader, options: WebSocketConnectionOptions = {}) {
    const {
      role = "server",
      maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE,
      maxFragments = DEFAULT_MAX_FRAGMENTS,
      maxBufferedAmount = DEFAULT_MAX_BUFFERED_AMOUNT,
      overflowCloseCode = CLOSE_CODE.POLICY_VIOLATION,
      pingInterval = 30_000,
      idleTimeout = 60_000,
      closeTimeout = 3_000,
    } = options;
    this.#conn = conn;
    this.#reader = reader;
    // Messages are small and the send queue already joins them into few writes: Nagle's
    // algorithm would only hold the next write back until the previous one is acknowledged.
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    this.protocol = options.protocol;
    const deflate = options.perMessageDeflate;
    this.#deflater = deflate && new MessageDeflater(deflate, role);
    this.#deflate = deflate;
    this.#decoder = new WebSocketDecoder({
      role,
      maxMessageSize,
      maxFragments,
      perMessageDeflate: deflate !== undefined,
    });
    this.#mask = role === "client";
    this.#overflowCloseCode = overflowCloseCode;
    this.#closeTimeout = closeTimeout;
    this.#onControl = options.onControl;
    this.#receiveAfterClose = options.receiveAfterClose ?? false;
    this.#out = new OutgoingFrames(conn, {
      maxBufferedAmount,
      onFailure: (failure) => this.#onQueueFailure(failure),
      inBatch: () => this.#inbox.waiting && !this.#reading,
    });
    this.#heartbeat = new Heartbeat({
      pingInterval,
      idleTimeout,
      isOpen: () => this.#state === "open",
      isReading: () => this.#reading !== undefined,
      ping: () => this.ping(),
      onIdle: () => this.close(CLOSE_CODE.GOING_AWAY, "idle timeout").catch(() => {}),
    });
    const { promise, resolve } = Promise.withResolvers<WebSocketCloseInfo>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    if (options.leftover && options.leftover.length > 0) this.#decode(options.leftover);
    this.#heartbeat.start();
  }

  /** `open`, `closing` (our Close frame is sent) or `closed`. */
  get readyState(): WebSocketReadyState {
    return this.#state;
  }

  /**
   * The permessage-deflate parameters in use, or `undefined` without compression. For fan-out,
   * compress a message once with `deflateMessage` and send the same RSV1 frame to every
   * connection that has them.
   */
  get perMessageDeflate(): PerMessageDeflate | undefined {
    return this.#deflate;
  }

  /** Bytes queued for sending and not yet written to the socket. */
  get bufferedAmount(): number {
    return this.#out.bufferedAmount;
  }

  /**
   * Waits for the next message.
   *
   * Messages that arrived before the peer's Close frame are still returned; after that, and once
   * {@linkcode WebSocketConnection.close} was called, it returns `null`.
   *
   * @returns The next message, or `null` when the connection is closed.
   */
  async receive(): Promise<WebSocketMessage | null> {
    for (;;) {
      const item = this.#inbox.take();
      if (item !== undefined) {
        if (item.type === "close") this.#onPeerClose(item);
        else if (item.type === "fail") this.#fail(item.code, item.reason);
        else return item;
        continue;
      }
      if (this.#state === "closing" && this.#receiveAfterClose && !this.#failure) {
        await this.#readChunk(); // shared with the read that waits for the peer's Close
        continue;
      }
      if (this.#state !== "open") {
        await this.closed;
        return null;
      }
      this.#out.flush(); // the replies to what we just handed out go in one write
      await this.#readChunk();
    }
  }

  /**
   * Iterates over messages until the connection closes. Convenient; a loop
   * over `receive()` is cheaper per message (an async generator adds two
   * promise hops), which the ping-pong benchmark shows as about 15%.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    for (let message; (message = await this.receive()) !== null;) yield message;
  }

  /**
   * Queues a message: a string as a text frame, bytes as a binary frame. With permessage-deflate,
   * a message of at least `threshold` bytes is compressed first (synchronously), unless that
   * does not make it smaller.
   *
   * @param data The message. Bytes are copied into the frame, so the caller may reuse them.
   * @returns `true` if queued; `false` if the connection is closing or closed, or if this
   * message overflowed the send queue (the connection is then closing with `overflowCloseCode`).
   */
  send(data: string | Uint8Array): boolean {
    if (this.#state !== "open") return false;
    // A server's uncompressed text is written straight into the batch its frame is sent in.
    if (typeof data === "string" && !this.#mask && !this.#deflater) {
      return this.#out.enqueue(new TextFrame(data));
    }
    const opcode = typeof data === "string" ? OPCODE.TEXT : OPCODE.BINARY;
    if (this.#deflater) return this.#out.enqueue(this.#deflater.encode(opcode, data, this.#mask));
    return this.#out.enqueue(encodeFrame(opcode, data, { mask: this.#mask }));
  }

  /**
   * Queues a frame encoded beforehand with `encodeFrame`: for fan-out, encode a message once and
   * send the same bytes to many connections. The frame must not be changed afterwards.
   *
   * @param frame A complete, unmasked (server) frame.
   * @returns As for {@linkcode WebSocketConnection.send}.
   */
  sendFrame(frame: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    return this.#out.enqueue(frame);
  }

  /**
   * Queues a Ping; the peer answers with a Pong.
   *
   * @param data Up to 125 bytes the Pong will carry back.
   * @returns As for {@linkcode WebSocketConnection.send}.
   * @throws {RangeError} If `data` is longer than 125 bytes (the limit for control frames).
   */
  ping(data: Uint8Array = new Uint8Array(0)): boolean {
    if (data.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(`Cannot ping: ${data.length} bytes exceed the 125-byte control limit`);
    }
    if (this.#state !== "open") return false;
    return this.#out.enqueue(encodeFrame(OPCODE.PING, data, { mask: this.#mask }));
  }

  /**
   * Starts the closing handshake: sends a Close frame, waits up to `closeTimeout` for the
   * peer's, then closes the socket. Messages arriving meanwhile are dropped, unless the
   * connection was made with `receiveAfterClose`.
   *
   * @param code The close code.
   * @param reason A short reason, at most 123 bytes of UTF-8.
   * @returns How the connection ended (the same as {@linkcode WebSocketConnection.closed}).
   * @throws {RangeError} If the code may not be sent or the reason is too long.
   */
  close(code: number = CLOSE_CODE.NORMAL, reason = ""): Promise<WebSocketCloseInfo> {
    const payload = encodeClosePayload(code, reason);
    if (this.#state !== "open") return this.closed;
    this.#sendClose(payload, { code, reason });
    if (!this.#receiveAfterClose) this.#inbox.clear();
    this.#awaitPeerClose();
    return this.closed;
  }

  /**
   * After our Close frame: keep reading until the peer's Close frame or end of stream, at most
   * `closeTimeout`. Closing a socket with unread input makes the kernel send a reset, which can
   * destroy our Close frame before the peer reads it; reading on avoids that.
   */
  #awaitPeerClose(): void {
    this.#closeTimer = setTimeout(() => {
      // No answer: report the Close we sent, as unclean.
      this.#finish(this.#failure ?? { ...this.#closeSent!, wasClean: false }, false);
    }, this.#closeTimeout);
    const drain = async () => {
      while (!this.#finished) await this.#readChunk();
    };
    drain().catch(() => {});
  }

  /** Reads one chunk from the socket and handles it; concurrent callers share one read. */
  #readChunk(): Promise<void> {
    // A `then` on the read instead of an async function: one promise less per message, which
    // the ping-pong benchmark sees (scripts/bench/bench_ws.ts).
    this.#reading ??= this.#reader.read().then(
      (chunk) => this.#onChunk(chunk),
      () => this.#onChunk(null), // reset by the peer, or closed by us: either way no handshake
    );
    return this.#reading;
  }

  #onChunk(chunk: Uint8Array | null): void {
    try {
      if (chunk === null) {
        this.#finish(
          this.#failure ?? { code: CLOSE_CODE.ABNORMAL, reason: "", wasClean: false },
          false,
        );
        return;
      }
      this.#heartbeat.heard();
      // After a protocol error the decoder is stuck; what the peer still sends is dropped.
      if (!this.#failure) this.#decode(chunk);
    } finally {
      // Only now may another read start: the chunk is a view into the reader's buffer, which
      // the next read overwrites.
      this.#reading = undefined;
    }
  }

  #decode(chunk: Uint8Array): void {
    const events: WebSocketEvent[] = [];
    let failure: WebSocketProtocolError | undefined;
    try {
      this.#decoder.decode(chunk, events);
    } catch (error) {
      if (!(error instanceof WebSocketProtocolError)) throw error;
      failure = error;
    }
    for (const event of events) this.#handle(event);
    if (!failure) return;
    // RFC 6455 lets an endpoint act on what it received before the frame that is wrong: the
    // messages ahead of it are delivered and may be answered, and the connection fails only
    // when the application reaches the error. Failing at once would queue our Close frame
    // ahead of the application's replies, and those replies would be refused.
    if (this.#state === "open" && this.#inbox.waiting) {
      this.#inbox.push({ type: "fail", code: failure.closeCode, reason: failure.message });
    } else {
      this.#fail(failure.closeCode, failure.message);
    }
  }

  #handle(event: WebSocketEvent): void {
    switch (event.type) {
      case "text":
      case "binary":
        if (
          this.#state === "open" || (this.#receiveAfterClose && this.#state === "closing")
        ) this.#inbox.push(event);
        break;
      case "ping":
        if (this.#state === "open") {
          this.#out.enqueue(encodeFrame(OPCODE.PONG, event.data, { mask: this.#mask }));
        }
        this.#onControl?.(OPCODE.PING, event.data.slice());
        break;
      case "pong":
        // Hearing from the peer was the point; a tool may also want to show it.
        this.#onControl?.(OPCODE.PONG, event.data.slice());
        break;
      case "close":
        // Answered once the application has read the messages that came before it, so that
        // it can still reply to them (an echo server echoes everything sent before Close).
        if (this.#state === "open" && this.#inbox.waiting) this.#inbox.push(event);
        else this.#onPeerClose(event);
        break;
    }
  }

  #onPeerClose(close: { code: number; reason: string }): void {
    this.#closeReceived = { code: close.code, reason: close.reason };
    if (!this.#closeSent) {
      // Echo the status code (RFC 6455 §5.5.1); an empty Close is answered with an empty one.
      const code = close.code === CLOSE_CODE.NO_STATUS ? undefined : close.code;
      this.#sendClose(encodeClosePayload(code), this.#closeReceived);
    }
    this.#finish({ ...this.#closeReceived, wasClean: true }, true);
  }

  /** Fails the connection: a Close frame with `code` unless one was sent, then the end. */
  #fail(code: number, reason: string): void {
    if (this.#failure || this.#finished) return;
    reason = truncateCloseReason(reason);
    this.#failure = { code, reason, wasClean: false };
    if (this.#closeSent) {
      this.#finish(this.#failure, false);
      return;
    }
    const sent = this.#sendClose(encodeClosePayload(code, reason), { code, reason });
    // We no longer parse what the peer sends, so its Close reply would go unnoticed: shutting our
    // sending side (FIN) after the Close frame tells it we are done, and it closes its side.
    sent.then((written) => {
      if (written && !this.#finished) this.#conn.closeWrite().catch(() => {});
    });
    this.#awaitPeerClose();
  }

  /** Queues our Close frame; resolves to whether it was written within `closeTimeout`. */
  #sendClose(payload: Uint8Array, sent: { code: number; reason: string }): Promise<boolean> {
    this.#out.flush();
    this.#closeSent = sent;
    this.#state = "closing";
    // end() stops the queue taking data and writes the Close frame after what is queued,
    // even after an overflow dropped the queue.
    return this.#out
      .end(encodeFrame(OPCODE.CLOSE, payload, { mask: this.#mask }), this.#closeTimeout)
      .catch(() => false);
  }

  #onQueueFailure(failure: OutboundQueueFailure): void {
    if (failure.kind === "writeError") {
      this.#finish({ code: CLOSE_CODE.ABNORMAL, reason: "", wasClean: false }, false);
    } else {
      this.#fail(this.#overflowCloseCode, "send queue full: the peer does not read fast enough");
    }
  }

  /**
   * Ends the connection once: optionally waits (bounded) for queued frames such as our Close
   * frame to be written, then closes the socket and resolves `closed`.
   */
  #finish(info: WebSocketCloseInfo, flush: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#state = "closed";
    this.#heartbeat.stop();
    clearTimeout(this.#closeTimer);
    if (flush) this.#out.flush();
    else this.#out.cancelFlush();
    // After a clean handshake the server closes the TCP connection first (RFC 6455 §7.1.1).
    const flushed = flush ? this.#out.end(undefined, this.#closeTimeout) : Promise.resolve(false);
    flushed.catch(() => false).then(() => {
      closeQuietly(this.#conn);
      this.#resolveClosed(info);
    });
  }
}
