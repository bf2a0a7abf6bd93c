/**
 * The client role on our own RFC 6455 code: the opening handshake from the client's side
 * (RFC 6455 §4.1), then a {@linkcode WebSocketConnection} with `role: "client"`, which masks
 * every frame it sends with a fresh random key (§5.3) and fails the connection on a masked frame
 * from the server (§5.1). Unlike the runtime's `WebSocket`, it lets the application see Ping and
 * Pong frames (`onControl`) and send Pings of its own.
 *
 * The client offers no extension: a server that answers with one anyway (permessage-deflate
 * included) is refused, as §4.1 requires, and so is a subprotocol that was not offered.
 *
 * @module
 */

import { ChunkReader } from "../io/chunk_reader.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import { writeAll } from "../io/write_all.ts";
import { formatHostPort, stripBrackets } from "../net/net_addr.ts";
import { ConnectError, connectTcp } from "../tcp/connect_tcp.ts";
import { WebSocketOpenError } from "./websocket_client.ts";
import { WebSocketConnection } from "./websocket_connection.ts";
import type { WebSocketConnectionOptions } from "./websocket_connection_options.ts";
import { computeAcceptKey } from "./websocket_handshake.ts";

/** Options for {@linkcode connectWebSocket}. */
export interface ConnectWebSocketOptions extends
  Pick<
    WebSocketConnectionOptions,
    "maxMessageSize" | "maxFragments" | "maxBufferedAmount" | "closeTimeout" | "onControl"
  > {
  /**
   * Give up on connect, TLS and handshake after this many milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
  /**
   * Extra handshake headers (`Origin`, `Authorization`, ...).
   *
   * @default {undefined}
   */
  headers?: HeadersInit;
  /**
   * Subprotocols to offer; the connection's `protocol` says which one the server picked.
   *
   * @default {[]}
   */
  protocols?: string[];
  /**
   * Extra PEM certificates to trust for a `wss://` server.
   *
   * @default {undefined}
   */
  caCerts?: string[];
  /**
   * Largest handshake response head, in bytes.
   *
   * @default {16384}
   */
  maxHeadSize?: number;
}

const HEAD_END = new Uint8Array([13, 10, 13, 10]);
const HANDSHAKE_HEADERS = ["host", "upgrade", "connection", "sec-websocket-key"];

/**
 * Opens a WebSocket to a `ws://` or `wss://` URL on our own frame code (TLS through
 * `connectTcp`), checks the server's answer, and returns the connection in the client role.
 * Its heartbeat is off (nothing is sent or closed behind the application's back), and messages
 * that arrive after `close()` until the server's Close are still returned by `receive()`.
 *
 * @param url A `ws://` or `wss://` URL.
 * @param options Time limit, headers, subprotocols, trusted CAs, limits and `onControl`.
 * @returns The open connection; `protocol` is the subprotocol the server picked.
 * @throws {WebSocketOpenError} If the connection or handshake fails: a refused or timed-out
 * connection, a status other than 101, a wrong `Sec-WebSocket-Accept`, or a subprotocol or
 * extension that was not offered.
 * @throws {TypeError} If `url` is not a `ws://` or `wss://` URL.
 *
 * @example Ping an echo server and see its Pong
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { connectWebSocket } from "./connect_websocket.ts";
 *
 * const pong = Promise.withResolvers<Uint8Array>();
 * const ws = await connectWebSocket("ws://127.0.0.1:8080/echo", {
 *   onControl: (opcode, payload) => opcode === 0xa && pong.resolve(payload),
 * });
 * ws.ping(new TextEncoder().encode("hi"));
 * assert.equal(new TextDecoder().decode(await pong.promise), "hi");
 * await ws.close();
 * ```
 */
export async function connectWebSocket(
  url: string,
  options: ConnectWebSocketOptions = {},
): Promise<WebSocketConnection> {
  const target = new URL(url);
  if (target.protocol !== "ws:" && target.protocol !== "wss:") {
    throw new TypeError(`Cannot connect to ${url}: expected a ws:// or wss:// URL`);
  }
  const tls = target.protocol === "wss:";
  const hostname = stripBrackets(target.hostname);
  const port = Number(target.port || (tls ? 443 : 80));
  const where = formatHostPort(hostname, port);
  const timeout = options.timeout ?? 10_000;
  const started = Date.now();
  const protocols = options.protocols ?? [];

  let conn: Deno.Conn;
  try {
    conn = await connectTcp({ hostname, port, tls, caCerts: options.caCerts, timeout });
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    const code = error.code === "permission" || error.code === "timeout" ||
        error.code === "refused" || error.code === "tls"
      ? error.code
      : "other";
    throw new WebSocketOpenError(
      code,
      where,
      code === "permission" ? `permission denied: run with --allow-net=${where}` : error.message,
    );
  }
  try {
    // A fresh random 16-byte nonce per handshake; the server proves it read it (§4.2.2).
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const lines = [
      `GET ${target.pathname}${target.search} HTTP/1.1`,
      `Host: ${target.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
    ];
    if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(", ")}`);
    for (const [name, value] of new Headers(options.headers)) {
      if (!HANDSHAKE_HEADERS.includes(name)) lines.push(`${name}: ${value}`);
    }
    await writeAll(conn, new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));

    const reader = new ChunkReader(conn);
    const { status, headers, rest } = await readResponseHead(reader, {
      where,
      maxHeadSize: options.maxHeadSize ?? 16_384,
      // What is left of the time limit after connecting.
      remaining: Math.max(1, timeout - (Date.now() - started)),
      timeout,
    });
    if (status !== 101) {
      throw new WebSocketOpenError(
        "rejected",
        where,
        `handshake rejected by ${where}: HTTP ${status}`,
        status,
      );
    }
    const refuse = (detail: string) =>
      new WebSocketOpenError("other", where, `Cannot open WebSocket to ${where}: ${detail}`);
    if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw refuse("the 101 response has no Upgrade: websocket");
    }
    if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headers.get("connection") ?? "")) {
      throw refuse("the 101 response has no Connection: Upgrade");
    }
    if (headers.get("sec-websocket-accept") !== await computeAcceptKey(key)) {
      throw refuse("Sec-WebSocket-Accept does not match our key");
    }
    const extensions = headers.get("sec-websocket-extensions");
    if (extensions !== null && extensions.trim() !== "") {
      throw refuse(
        `the server chose extension ${JSON.stringify(extensions)}, which we did not offer`,
      );
    }
    const protocol = headers.get("sec-websocket-protocol") ?? undefined;
    if (protocol !== undefined && !protocols.includes(protocol)) {
      throw refuse(
        `the server chose subprotocol ${JSON.stringify(protocol)}, which we did not offer`,
      );
    }
    return new WebSocketConnection(conn, reader, {
      role: "client",
      protocol,
      leftover: rest,
      maxMessageSize: options.maxMessageSize,
      maxFragments: options.maxFragments,
      maxBufferedAmount: options.maxBufferedAmount,
      closeTimeout: options.closeTimeout,
      onControl: options.onControl,
      // Replies on their way when the application closes are still delivered.
      receiveAfterClose: true,
      pingInterval: 0,
      idleTimeout: 0,
    });
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
}

interface ResponseHead {
  status: number;
  headers: Headers;
  /** Bytes after the head: the first frames, copied out of the reader's buffer. */
  rest: Uint8Array;
}

/** Reads the status line and headers of the handshake response, within limits. */
async function readResponseHead(
  reader: ChunkReader,
  options: { where: string; maxHeadSize: number; remaining: number; timeout: number },
): Promise<ResponseHead> {
  const { where, maxHeadSize, remaining, timeout } = options;
  let buffered = new Uint8Array(0);
  let end = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(
        new WebSocketOpenError(
          "timeout",
          where,
          `no WebSocket handshake with ${where} within ${
            timeout / 1000
          } s: is it a WebSocket server?`,
        ),
      ), remaining);
  });
  timedOut.catch(() => {});
  try {
    return await readHead();
  } finally {
    clearTimeout(timer);
  }

  async function readHead(): Promise<ResponseHead> {
    while ((end = indexOf(buffered, HEAD_END)) < 0) {
      if (buffered.length > maxHeadSize) {
        throw new WebSocketOpenError(
          "other",
          where,
          `Cannot open WebSocket to ${where}: response head exceeds ${maxHeadSize} bytes`,
        );
      }
      const chunk = await Promise.race([reader.read(), timedOut]);
      if (chunk === null) {
        throw new WebSocketOpenError(
          "other",
          where,
          `Cannot open WebSocket to ${where}: the server closed the connection during the handshake`,
        );
      }
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      buffered = joined;
    }
    const text = new TextDecoder().decode(buffered.subarray(0, end));
    const [statusLine = "", ...headerLines] = text.split("\r\n");
    const match = statusLine.match(/^HTTP\/1\.[01] (\d{3})(?: |$)/);
    if (!match) {
      throw new WebSocketOpenError(
        "not-http",
        where,
        `${where} did not answer in HTTP: ${JSON.stringify(statusLine.slice(0, 40))}` +
          " (a TLS server? try wss://)",
      );
    }
    const headers = new Headers();
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      try {
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      } catch {
        // A header name or value Headers refuses: not one the handshake needs.
      }
    }
    return { status: Number(match[1]), headers, rest: buffered.slice(end + HEAD_END.length) };
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
