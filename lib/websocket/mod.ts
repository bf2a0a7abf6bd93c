/**
 * WebSocket (RFC 6455) on a TCP or TLS connection: the codec, the opening
 * and closing handshakes, and a connection with a heartbeat and a bounded
 * send queue. Depends on http/ for the upgrade request and io/ for reading.
 *
 * From the bytes up:
 * - {@linkcode encodeFrame} and {@linkcode OPCODE} (websocket_frame.ts): one
 *   frame on the wire, with masking; {@linkcode TextFrame}, a text frame
 *   written straight into the buffer a batch of frames is sent in.
 * - {@linkcode WebSocketDecoder} (websocket_decoder.ts): bytes in, messages and
 *   control frames out, every rule and limit checked; a violation is a
 *   {@linkcode WebSocketProtocolError} (websocket_protocol_error.ts) carrying
 *   the close code to send ({@linkcode CLOSE_CODE}, websocket_close.ts).
 * - {@linkcode acceptWebSocket} (websocket_handshake.ts): check an upgrade
 *   request, pick a subprotocol, apply an Origin policy, build the 101.
 * - {@linkcode upgradeWebSocket} (websocket_upgrade.ts): the handshake on a
 *   live connection, returning a {@linkcode WebSocketConnection}
 *   (websocket_connection.ts; its options and message types in
 *   websocket_connection_options.ts). Use this in a server; the rest is for tests,
 *   tools and readers who want to see each step.
 * - {@linkcode startWsWorkers} and {@linkcode startWsWorker} (ws_worker.ts): the
 *   echo and broadcast server of ws_server.ts on every core (`--workers`).
 * - {@linkcode connectWebSocket} (connect_websocket.ts): the client role, a
 *   {@linkcode WebSocketConnection} that masks what it sends and reports
 *   Pings and Pongs through `onControl`.
 *
 * @example A masked client frame, decoded as a server sees it
 * ```ts
 * import { encodeFrame, OPCODE, WebSocketDecoder } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeFrame(OPCODE.TEXT, "hi", { mask: true });
 * assert.deepEqual(new WebSocketDecoder().decode(frame), [{ type: "text", data: "hi" }]);
 * ```
 *
 * @module
 */
export * from "./accept_http_upgrade.ts";
export * from "./broadcast_frames.ts";
export * from "./client_socket.ts";
export * from "./connect_websocket.ts";
export * from "./same_origin_pages.ts";
export * from "./websocket_client.ts";
export * from "./websocket_close.ts";
export * from "./websocket_connection.ts";
export * from "./websocket_connection_options.ts";
export * from "./websocket_decoder.ts";
export * from "./websocket_deflate.ts";
export * from "./websocket_frame.ts";
export * from "./websocket_handshake.ts";
export * from "./websocket_protocol_error.ts";
export * from "./websocket_upgrade.ts";
export * from "./ws_server.ts";
export * from "./ws_server_page.ts";
export * from "./ws_worker.ts";
