/**
 * A load generator for WebSocket servers: echo (every connection keeps messages in flight) and
 * broadcast (one sender, every other connection receives), measuring messages per second and
 * round-trip latency. Frames are encoded once up front and replies are counted, not decoded, so
 * the client spends little CPU per message and the server stays the bottleneck.
 *
 * @module
 */

import { ChunkReader } from "../io/chunk_reader.ts";
import { LatencyRecorder, type LatencySummary } from "./latency_stats.ts";
import { encodeFrame, OPCODE } from "../websocket/websocket_frame.ts";
import { deflateMessage } from "../websocket/websocket_deflate.ts";
import { writeAll } from "../io/write_all.ts";
import { formatHostPort } from "../net/net_addr.ts";

/** Options for {@linkcode runWebSocketLoad}. */
export interface WebSocketLoadOptions {
  /**
   * The server's address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The server's port. */
  port: number;
  /**
   * `echo`: every connection keeps `inFlight` messages in flight and counts the echoes.
   * `broadcast`: connection 0 sends, at most `inFlight` messages ahead of the slowest receiver;
   * every message a receiver gets is one delivery.
   *
   * @default {"echo"}
   */
  mode?: "echo" | "broadcast";
  /**
   * The request path.
   *
   * @default {"/echo"}
   */
  path?: string;
  /**
   * How many connections to open.
   *
   * @default {1}
   */
  connections?: number;
  /**
   * Text message size, in bytes.
   *
   * @default {64}
   */
  size?: number;
  /**
   * The text message to send, instead of `size` bytes of `x` (which compress to almost nothing:
   * give realistic text when measuring compression).
   *
   * @default {undefined}
   */
  text?: string;
  /**
   * Offer permessage-deflate (with no context takeover) in the handshake, and when the server
   * agrees, send the message compressed (compressed once up front, like the frame itself). The
   * replies are counted either way; a server that declines gets the plain message.
   *
   * @default {false}
   */
  perMessageDeflate?: boolean;
  /**
   * Messages in flight per connection (echo) or ahead of the slowest receiver (broadcast).
   *
   * @default {1}
   */
  inFlight?: number;
  /**
   * How long to measure, in ms, after the warm-up.
   *
   * @default {3000}
   */
  duration?: number;
  /**
   * How long to run before measuring, in ms.
   *
   * @default {500}
   */
  warmup?: number;
}

/** What {@linkcode runWebSocketLoad} measured. */
export interface WebSocketLoadResult {
  /** Echoes (echo) or deliveries (broadcast) completed in the measured window. */
  messages: number;
  /** The measured window, in seconds. */
  seconds: number;
  /** Messages per second. */
  messagesPerSecond: number;
  /** Echo round-trip times, in ms (empty for broadcast). */
  latency: LatencySummary;
  /** Whether the server agreed to permessage-deflate (always `false` unless it was offered). */
  compressed: boolean;
}

/** A client connection that counts complete data frames without decoding them. */
class CountingConnection {
  readonly conn: Deno.Conn;
  readonly reader: ChunkReader;
  received = 0;
  // Frame parsing state: header bytes gathered so far, and payload bytes left to skip.
  #header = new Uint8Array(10);
  #headerFilled = 0;
  #skip = 0;
  #fin = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.reader = new ChunkReader(conn, { initialSize: 65_536 });
  }

  /** Counts the data frames completed by `chunk`; returns how many. */
  count(chunk: Uint8Array): number {
    let completed = 0;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - pos);
        this.#skip -= take;
        pos += take;
        if (this.#skip === 0 && this.#fin) completed++;
        continue;
      }
      this.#header[this.#headerFilled++] = chunk[pos++]!;
      if (this.#headerFilled < 2) continue;
      const length7 = this.#header[1]! & 0x7f;
      const need = length7 === 126 ? 4 : length7 === 127 ? 10 : 2;
      if (this.#headerFilled < need) continue;
      const opcode = this.#header[0]! & 0x0f;
      if (opcode === OPCODE.CLOSE) throw new Error("Cannot run load: the server sent Close");
      const view = new DataView(this.#header.buffer);
      this.#skip = length7 === 126
        ? view.getUint16(2)
        : length7 === 127
        ? Number(view.getBigUint64(2))
        : length7;
      this.#fin = (this.#header[0]! & 0x80) !== 0 && opcode !== OPCODE.PING &&
        opcode !== OPCODE.PONG;
      this.#headerFilled = 0;
      if (this.#skip === 0 && this.#fin) completed++;
    }
    this.received += completed;
    return completed;
  }
}

const DEFLATE_OFFER = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; " +
  "client_no_context_takeover\r\n";

async function open(
  hostname: string,
  port: number,
  path: string,
  offerDeflate: boolean,
): Promise<{ connection: CountingConnection; compressed: boolean }> {
  const conn = await Deno.connect({ hostname, port });
  try {
    conn.setNoDelay(true);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${
          formatHostPort(hostname, port)
        }\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          (offerDeflate ? DEFLATE_OFFER : "") + "\r\n",
      ),
    );
    // Read the 101 response byte by byte (setup only): no frame may be read with it.
    const byByte = new ChunkReader(conn, { initialSize: 1, maxSize: 1 });
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const chunk = await byByte.read();
      if (chunk === null) throw new Error(`Cannot run load: ${path} closed during the handshake`);
      head += String.fromCharCode(...chunk);
    }
    if (!head.startsWith("HTTP/1.1 101")) {
      throw new Error(`Cannot run load: handshake refused: ${head.split("\r\n")[0]}`);
    }
    const compressed = /\r\nSec-WebSocket-Extensions:[^\r]*permessage-deflate/i.test(head);
    return { connection: new CountingConnection(conn), compressed };
  } catch (error) {
    conn.close();
    throw error;
  }
}

/**
 * Drives a WebSocket echo or broadcast endpoint and measures it. The run is bounded by
 * `warmup + duration` plus draining what is in flight.
 *
 * @param options Target, shape of the load and duration.
 * @returns Throughput and (echo) latency.
 * @throws {Error} If a handshake is refused or the server closes a connection during the run.
 *
 * @example
 * ```ts ignore
 * import { runWebSocketLoad } from "./websocket_load.ts";
 *
 * const result = await runWebSocketLoad({ port: 8080, connections: 50, inFlight: 16 });
 * console.log(`${result.messagesPerSecond.toFixed(0)} msgs/s`);
 * ```
 */
export async function runWebSocketLoad(
  options: WebSocketLoadOptions,
): Promise<WebSocketLoadResult> {
  const mode = options.mode ?? "echo";
  const connections = options.connections ?? 1;
  const inFlight = options.inFlight ?? 1;
  const size = options.size ?? 64;
  const path = options.path ?? (mode === "echo" ? "/echo" : "/broadcast");
  const text = options.text ?? "x".repeat(size);
  const conns: CountingConnection[] = [];
  try {
    let compressed = false;
    for (let i = 0; i < connections; i++) {
      const opened = await open(
        options.hostname ?? "127.0.0.1",
        options.port,
        path,
        options.perMessageDeflate ?? false,
      );
      conns.push(opened.connection);
      if (i === 0) compressed = opened.compressed;
    }
    const frame = compressed
      ? encodeFrame(OPCODE.TEXT, deflateMessage(new TextEncoder().encode(text)), {
        mask: true,
        rsv: 4,
      })
      : encodeFrame(OPCODE.TEXT, text, { mask: true });
    // inFlight copies of the frame back to back: any count up to inFlight is one subarray.
    const frames = new Uint8Array(frame.length * inFlight);
    for (let i = 0; i < inFlight; i++) frames.set(frame, i * frame.length);
    const batch = (n: number) => frames.subarray(0, n * frame.length);
    const latency = new LatencyRecorder();
    let measuring = false;
    let running = true;
    const warmup = options.warmup ?? 500;
    const duration = options.duration ?? 3000;

    const echoLoop = async (c: CountingConnection) => {
      const sentAt: number[] = []; // FIFO of send times: echoes come back in order
      let head = 0;
      let outstanding = inFlight;
      for (let i = 0; i < inFlight; i++) sentAt.push(performance.now());
      await writeAll(c.conn, batch(inFlight));
      while (outstanding > 0) {
        const chunk = await c.reader.read();
        if (chunk === null) throw new Error("Cannot run load: the server closed a connection");
        const done = c.count(chunk);
        if (done === 0) continue;
        const now = performance.now();
        for (let i = 0; i < done; i++) if (measuring) latency.record(now - sentAt[head + i]!);
        head += done;
        outstanding -= done;
        if (head > 4096) {
          sentAt.splice(0, head);
          head = 0;
        }
        if (running) {
          for (let i = 0; i < done; i++) sentAt.push(now);
          outstanding += done;
          await writeAll(c.conn, batch(done));
        }
      }
    };

    let counted = 0;
    const broadcastLoops = () => {
      const [sender, ...receivers] = conns;
      if (!sender || receivers.length === 0) {
        throw new RangeError("Cannot run broadcast load: needs at least 2 connections");
      }
      let sent = 0;
      let wake = Promise.withResolvers<void>();
      const slowest = () => Math.min(...receivers.map((r) => r.received));
      const send = async () => {
        while (running) {
          const room = inFlight - (sent - slowest());
          if (room <= 0) {
            await wake.promise;
            wake = Promise.withResolvers<void>();
            continue;
          }
          sent += room;
          await writeAll(sender.conn, batch(room));
        }
      };
      const receive = async (c: CountingConnection) => {
        while (c.received < sent || running) {
          const chunk = await c.reader.read();
          if (chunk === null) throw new Error("Cannot run load: the server closed a connection");
          const done = c.count(chunk);
          if (measuring) counted += done;
          if (done > 0) wake.resolve();
        }
      };
      return [send(), ...receivers.map(receive)];
    };

    const loops = mode === "echo" ? conns.map(echoLoop) : broadcastLoops();
    const all = Promise.all(loops);
    all.catch(() => {}); // raced below, then awaited
    const echoedBefore = () => conns.reduce((n, c) => n + c.received, 0);
    const wait = async (ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([all, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
      clearTimeout(timer);
    };
    await wait(warmup);
    measuring = true;
    const start = performance.now();
    const before = echoedBefore();
    await wait(duration);
    const seconds = (performance.now() - start) / 1000;
    const messages = mode === "echo" ? echoedBefore() - before : counted;
    running = false;
    measuring = false;
    if (mode === "broadcast") {
      // Receivers wait for their next chunk: closing the sockets ends them.
      for (const c of conns) c.conn.close();
      await all.catch(() => {});
    } else {
      await all;
    }
    return {
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      latency: latency.summary(),
      compressed,
    };
  } finally {
    for (const c of conns) {
      try {
        c.conn.close();
      } catch { /* closed above */ }
    }
  }
}
