/**
 * Everything in `lib/`, for callers who prefer one import. Scripts import the
 * individual modules instead, so a copied script needs only the files it uses.
 *
 * @example
 * ```ts
 * import { encodeLine, LineDecoder } from "./mod.ts";
 *
 * const decoder = new LineDecoder();
 * decoder.push(encodeLine("hello"));
 * console.assert(decoder.next() === "hello");
 * ```
 *
 * @module
 */
export * from "./bench_server.ts";
export * from "./buffered_reader.ts";
export * from "./chat_hub.ts";
export * from "./chat_line.ts";
export * from "./chat_room.ts";
export * from "./chunk_reader.ts";
export * from "./cli.ts";
export * from "./connect_tcp.ts";
export * from "./datagram_load.ts";
export * from "./datagram_requester.ts";
export * from "./echo_load.ts";
export * from "./echo_probe.ts";
export * from "./file_receiver.ts";
export * from "./file_sender.ts";
export * from "./file_transfer_protocol.ts";
export * from "./format_bytes.ts";
export * from "./frame_errors.ts";
export * from "./hash_file_prefix.ts";
export * from "./http_error.ts";
export * from "./http_request_head.ts";
export * from "./http_response.ts";
export * from "./latency_stats.ts";
export * from "./length_prefixed.ts";
export * from "./line_decoder.ts";
export * from "./listen_udp.ts";
export * from "./log.ts";
export * from "./net_addr.ts";
export * from "./net_errors.ts";
export * from "./nick_registry.ts";
export * from "./outbound_queue.ts";
export * from "./process_usage.ts";
export * from "./progress_bar.ts";
export * from "./read_buffer.ts";
export * from "./safe_file_name.ts";
export * from "./sanitize_text.ts";
export * from "./serve_tcp.ts";
export * from "./serve_udp.ts";
export * from "./shutdown_signals.ts";
export * from "./source_rate_limiter.ts";
export * from "./tls_files.ts";
export * from "./token_bucket.ts";
export * from "./websocket_close.ts";
export * from "./websocket_connection.ts";
export * from "./websocket_decoder.ts";
export * from "./websocket_frame.ts";
export * from "./websocket_handshake.ts";
export * from "./websocket_load.ts";
export * from "./websocket_protocol_error.ts";
export * from "./websocket_upgrade.ts";
export * from "./write_all.ts";
