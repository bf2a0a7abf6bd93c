/**
 * A multi-room chat: the core with no socket code, and the pieces the
 * transports share. `scripts/chat_server.ts` serves it over TCP lines (`nc`,
 * telnet) and over WebSocket (the browser page) into the same rooms.
 *
 * - {@linkcode ChatHub} (chat_hub.ts): sessions, nicks, rooms, commands and
 *   per-member limits; synchronous, so it is tested without sockets. A
 *   transport turns a connection into a {@linkcode ChatMember} and feeds its
 *   lines to the returned {@linkcode ChatSession} (both in chat_session.ts);
 *   its options are {@linkcode ChatHubOptions} (chat_hub_options.ts).
 * - {@linkcode ChatRoom} (chat_room.ts), {@linkcode NickRegistry}
 *   (nick_registry.ts) and {@linkcode ChatLine} (chat_line.ts, encoded once
 *   for every receiver): the parts of the hub.
 * - {@linkcode sanitizeText} (sanitize_text.ts): strip terminal escapes and
 *   bidirectional overrides before relaying what someone typed.
 * - {@linkcode CHAT_PAGE_HTML} (chat_page.ts): the browser page.
 * - {@linkcode ChatRelay} (chat_relay.ts): the hub's seam to other hubs, for rooms that span
 *   servers; {@linkcode RedisRelay} (redis_relay.ts) shares them through Redis pub/sub, and
 *   {@linkcode WorkerChatRelay} with {@linkcode ChatOwner} (worker_relay.ts) between the worker
 *   threads of one process (`--workers`); {@linkcode startChatWorkers} and
 *   {@linkcode startChatWorker} (chat_workers.ts) start that pool and each worker's server.
 *
 * @example
 * ```ts
 * import { sanitizeText } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizeText("\x1b[2Jhello"), "hello");
 * ```
 *
 * @module
 */
export * from "./chat_hub.ts";
export * from "./chat_hub_options.ts";
export * from "./chat_line.ts";
export * from "./chat_page.ts";
export * from "./chat_relay.ts";
export * from "./chat_room.ts";
export * from "./chat_server.ts";
export * from "./chat_session.ts";
export * from "./chat_tcp_session.ts";
export * from "./chat_websocket_session.ts";
export * from "./chat_workers.ts";
export * from "./nick_registry.ts";
export * from "./read_chat_lines.ts";
export * from "./redis_relay.ts";
export * from "./sanitize_text.ts";
export * from "./tcp_member.ts";
export * from "./websocket_member.ts";
export * from "./worker_relay.ts";
