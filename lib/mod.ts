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
export * from "./load/bench_server.ts";
export * from "./io/buffered_reader.ts";
export * from "./chat/chat_hub.ts";
export * from "./chat/chat_line.ts";
export * from "./chat/chat_room.ts";
export * from "./io/chunk_reader.ts";
export * from "./cli/cli.ts";
export * from "./tcp/connect_tcp.ts";
export * from "./load/datagram_load.ts";
export * from "./udp/datagram_requester.ts";
export * from "./load/echo_load.ts";
export * from "./udp/echo_probe.ts";
export * from "./file_transfer/file_receiver.ts";
export * from "./file_transfer/file_sender.ts";
export * from "./file_transfer/file_transfer_protocol.ts";
export * from "./cli/format_bytes.ts";
export * from "./framing/frame_errors.ts";
export * from "./file_transfer/hash_file_prefix.ts";
export * from "./http/http_error.ts";
export * from "./http/http_request_head.ts";
export * from "./http/http_response.ts";
export * from "./http/host_check.ts";
export * from "./http/is_http_request_line.ts";
export * from "./http/service_unavailable.ts";
export * from "./load/latency_stats.ts";
export * from "./framing/length_prefixed.ts";
export * from "./framing/line_decoder.ts";
export * from "./udp/listen_udp.ts";
export * from "./cli/log.ts";
export * from "./net/net_addr.ts";
export * from "./net/net_errors.ts";
export * from "./chat/nick_registry.ts";
export * from "./io/outbound_queue.ts";
export * from "./load/process_usage.ts";
export * from "./cli/progress_bar.ts";
export * from "./io/read_buffer.ts";
export * from "./file_transfer/safe_file_name.ts";
export * from "./chat/sanitize_text.ts";
export * from "./tcp/serve_tcp.ts";
export * from "./telnet/telnet_filter.ts";
export * from "./udp/serve_udp.ts";
export * from "./net/shutdown_signals.ts";
export * from "./udp/source_rate_limiter.ts";
export * from "./cli/tls_files.ts";
export * from "./net/token_bucket.ts";
export * from "./websocket/websocket_close.ts";
export * from "./websocket/websocket_connection.ts";
export * from "./websocket/websocket_decoder.ts";
export * from "./websocket/websocket_frame.ts";
export * from "./websocket/websocket_handshake.ts";
export * from "./load/websocket_load.ts";
export * from "./websocket/websocket_protocol_error.ts";
export * from "./websocket/websocket_upgrade.ts";
export * from "./io/write_all.ts";
export * from "./io/write_and_linger.ts";
