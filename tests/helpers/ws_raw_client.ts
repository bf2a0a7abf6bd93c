/**
 * Test helper: a raw-frame WebSocket client built on our encoder (with masking) and decoder, for
 * sending exactly the bytes a conformance case needs, valid or not.
 *
 * @module
 */

import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { WebSocketDecoder, type WebSocketEvent } from "../../lib/websocket/websocket_decoder.ts";
import { encodeFrame, type EncodeFrameOptions } from "../../lib/websocket/websocket_frame.ts";
import { writeAll } from "../../lib/io/write_all.ts";

/** What the server did next: a frame, or the end of the TCP stream. */
export type ServerEvent = WebSocketEvent | { type: "eof" };

/** Options for {@linkcode RawWsClient.connect}. */
export interface RawConnectOptions {
  /** Request path, default `/echo`. */
  path?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Largest message the client accepts from the server, default 64 MiB. */
  maxMessageSize?: number;
}

/** A WebSocket client that sends raw frames and reports raw server events. */
export class RawWsClient implements Disposable {
  readonly conn: Deno.Conn;
  /** The status line and headers of the handshake response. */
  readonly responseHead: string;
  #reader: ChunkReader;
  #decoder: WebSocketDecoder;
  #events: WebSocketEvent[] = [];
  #eof = false;

  private constructor(
    conn: Deno.Conn,
    reader: ChunkReader,
    responseHead: string,
    rest: Uint8Array,
    maxMessageSize: number,
  ) {
    this.conn = conn;
    this.responseHead = responseHead;
    this.#reader = reader;
    this.#decoder = new WebSocketDecoder({ role: "client", maxMessageSize, maxFragments: 1 << 20 });
    this.#decoder.decode(rest, this.#events);
  }

  /** Connects and completes the handshake; throws with the response if it is not a 101. */
  static async connect(port: number, options: RawConnectOptions = {}): Promise<RawWsClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const headers = {
        Host: `127.0.0.1:${port}`,
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        ...options.headers,
      };
      const request = `GET ${options.path ?? "/echo"} HTTP/1.1\r\n` +
        Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
      await writeAll(conn, new TextEncoder().encode(request));
      const reader = new ChunkReader(conn);
      const { head, rest } = await readResponseHead(reader);
      if (!head.startsWith("HTTP/1.1 101 ")) {
        throw new Error(`Handshake refused: ${head.split("\r\n")[0]}`);
      }
      return new RawWsClient(conn, reader, head, rest, options.maxMessageSize ?? 64 << 20);
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** Writes bytes as they are. */
  async send(bytes: Uint8Array): Promise<void> {
    await writeAll(this.conn, bytes);
  }

  /** Writes one masked frame. */
  async sendFrame(
    opcode: number,
    payload: Uint8Array | string = new Uint8Array(0),
    options: EncodeFrameOptions = {},
  ): Promise<void> {
    await this.send(encodeFrame(opcode, payload, { mask: true, ...options }));
  }

  /** Waits for the next frame from the server, or `eof` when the server closed TCP. */
  async next(): Promise<ServerEvent> {
    while (this.#events.length === 0) {
      if (this.#eof) return { type: "eof" };
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#reader.read();
      } catch (error) {
        if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
        chunk = null; // a reset ends the stream as well
      }
      if (chunk === null) this.#eof = true;
      else this.#decoder.decode(chunk, this.#events);
    }
    return this.#events.shift()!;
  }

  /** Reads events until the server's Close frame and returns it, then expects end of stream. */
  async expectClose(): Promise<{ code: number; reason: string; before: ServerEvent[] }> {
    const before: ServerEvent[] = [];
    for (;;) {
      const event = await this.next();
      if (event.type === "close") {
        // After its Close frame the server closes TCP (RFC 6455 §7.1.1); nothing else comes.
        const after = await this.next();
        if (after.type !== "eof") throw new Error(`Expected end of stream, got ${after.type}`);
        return { code: event.code, reason: event.reason, before };
      }
      if (event.type === "eof") throw new Error(`Stream ended without a Close frame`);
      before.push(event);
    }
  }

  [Symbol.dispose](): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

async function readResponseHead(reader: ChunkReader): Promise<{ head: string; rest: Uint8Array }> {
  let raw = new Uint8Array(0);
  for (;;) {
    const chunk = await reader.read();
    if (chunk === null) throw new Error("Connection closed during the handshake");
    const joined = new Uint8Array(raw.length + chunk.length);
    joined.set(raw);
    joined.set(chunk, raw.length);
    raw = joined;
    for (let i = 3; i < raw.length; i++) {
      if (raw[i - 3] === 13 && raw[i - 2] === 10 && raw[i - 1] === 13 && raw[i] === 10) {
        return { head: new TextDecoder().decode(raw.subarray(0, i + 1)), rest: raw.slice(i + 1) };
      }
    }
  }
}
