/**
 * Turning an HTTP upgrade request on a TCP or TLS connection into a WebSocket connection.
 *
 * @module
 */

import type { ChunkReader } from "../io/chunk_reader.ts";
import type { RequestHeadWithRest } from "../http/http_request_head.ts";
import { acceptWebSocket, type AcceptWebSocketOptions } from "./websocket_handshake.ts";
import { WebSocketConnection } from "./websocket_connection.ts";
import type { WebSocketConnectionOptions } from "./websocket_connection_options.ts";
import { writeAll } from "../io/write_all.ts";

/** Options for {@linkcode upgradeWebSocket}: the handshake's and the connection's. */
export interface UpgradeWebSocketOptions
  extends
    AcceptWebSocketOptions,
    Omit<WebSocketConnectionOptions, "role" | "protocol" | "leftover" | "perMessageDeflate"> {}

/**
 * Checks an upgrade request, writes the `101 Switching Protocols` response and returns the
 * WebSocket connection.
 *
 * @param conn The connection the request came on.
 * @param reader The reader the request head was read with; the WebSocket goes on reading with it.
 * @param request The request head and the bytes that followed it (from `readRequestHead`).
 * @param options Subprotocols, Origin policy, permessage-deflate (on by default; `false` turns it
 * off), limits and timers.
 * @returns The open WebSocket connection.
 * @throws {HttpError} If the request is not an acceptable upgrade (400, 403, 426); nothing was
 * written, so answer it with `encodeHttpErrorResponse`.
 *
 * @example A server with one WebSocket endpoint
 * ```ts ignore
 * import { ChunkReader } from "../io/chunk_reader.ts";
 * import { HttpError } from "../http/http_error.ts";
 * import { readRequestHead } from "../http/http_request_head.ts";
 * import { encodeHttpErrorResponse } from "../http/http_response.ts";
 * import { serveTcp } from "../tcp/serve_tcp.ts";
 * import { upgradeWebSocket } from "./websocket_upgrade.ts";
 * import { writeAll } from "../io/write_all.ts";
 *
 * serveTcp(async (conn) => {
 *   const reader = new ChunkReader(conn);
 *   try {
 *     const request = await readRequestHead(reader, { signal: AbortSignal.timeout(10_000) });
 *     if (request === null) return;
 *     const ws = await upgradeWebSocket(conn, reader, request);
 *     for await (const message of ws) ws.send(message.data);
 *   } catch (error) {
 *     if (!(error instanceof HttpError)) throw error;
 *     await writeAll(conn, encodeHttpErrorResponse(error));
 *   }
 * }, { port: 8080 });
 * ```
 */
export async function upgradeWebSocket(
  conn: Deno.Conn,
  reader: ChunkReader,
  request: RequestHeadWithRest,
  options: UpgradeWebSocketOptions = {},
): Promise<WebSocketConnection> {
  const { protocol, response, perMessageDeflate } = await acceptWebSocket(request.head, options);
  await writeAll(conn, response);
  return new WebSocketConnection(conn, reader, {
    ...options,
    role: "server",
    protocol,
    leftover: request.rest,
    perMessageDeflate,
  });
}
