/**
 * The library, one line per package. Scripts import the individual modules
 * instead (`../lib/tcp/serve_tcp.ts`), so a copied script needs only the
 * files it uses; each package's `mod.ts` tells which module to use when.
 *
 * The dependency rule (checked by tests/repo/dependency_rule_test.ts): a
 * package imports only packages below it, with no cycles. framing ← io ←
 * {tcp, udp} ← {file_transfer, redis, proxy}; http ← websocket ← chat; redis ← chat; net is usable by all;
 * load may use the protocol packages; nothing imports cli except cli; lib/
 * never imports scripts/.
 *
 * @example
 * ```ts
 * import { encodeLine, LineDecoder } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new LineDecoder();
 * decoder.push(encodeLine("hello"));
 * assert.equal(decoder.next(), "hello");
 * ```
 *
 * @module
 */
export * from "./net/mod.ts"; // addresses, error advice, Ctrl+C shutdown, rate limiting, logger interface
export * from "./framing/mod.ts"; // lines and length-prefixed frames from a byte stream
export * from "./io/mod.ts"; // reading and writing a connection, bounded send queues
export * from "./tcp/mod.ts"; // TCP/TLS server and client connect
export * from "./udp/mod.ts"; // UDP socket, server loop with rate limits, request/response client
export * from "./http/mod.ts"; // just enough HTTP/1.1 to upgrade to WebSocket
export * from "./telnet/mod.ts"; // enough Telnet for a line server: IAC filtering, TIMING-MARK, NVT line ends
export * from "./websocket/mod.ts"; // RFC 6455 codec, handshake, connection
export * from "./chat/mod.ts"; // multi-room chat core, shared by the TCP and WebSocket transports
export * from "./file_transfer/mod.ts"; // file transfer with resume and SHA-256 check
export * from "./redis/mod.ts"; // a Redis client: RESP decoder/encoder, pipelining, pub/sub, reconnect
export * from "./proxy/mod.ts"; // fault-injecting TCP/UDP proxy pieces: pipe, fault schedules, sessions
export * from "./cli/mod.ts"; // flags, help, exit codes, logger, progress bar (for scripts)
export * from "./load/mod.ts"; // load generators and measurement (benchmarks, --bench)
