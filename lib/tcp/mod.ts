/**
 * TCP and TLS: a server with the limits a public server needs, and a client
 * connect with a timeout and advice. Built on `Deno.listen` /
 * `Deno.listenTls` and `Deno.connect` / `Deno.connectTls`.
 *
 * - {@linkcode serveTcp} (serve_tcp.ts): an accept loop that survives accept
 *   errors, a connection limit, an idle timeout, and graceful shutdown that
 *   closes tracked connections. Use it for any server; your handler gets one
 *   connection and its {@linkcode ConnectionContext} (both in
 *   connection_handler.ts, as {@linkcode ConnectionHandler}). A client over the limit
 *   is told so by a {@linkcode RefusalHandler} (refusal_handler.ts); TLS takes
 *   a {@linkcode TlsCertifiedKey} (tls_certified_key.ts).
 * - {@linkcode connectTcp} (connect_tcp.ts): connect (optionally TLS) with a
 *   timeout and retries; a failure is a {@linkcode ConnectError} with a code
 *   and a message that says what to check.
 * - {@linkcode echoRoundTrip} (echo_round_trip.ts) and
 *   {@linkcode looksLikeTlsAlert} (looks_like_tls_alert.ts): one checked round
 *   trip to an echo server, and telling a TLS server's alert from an echo.
 * - {@linkcode echoHandler} (echo_handler.ts): the echo server's connection
 *   handler; {@linkcode startEchoWorkers} and {@linkcode startEchoWorker}
 *   (echo_worker.ts): the echo server on every core (`--workers`).
 *
 * @example An echo server in a few lines
 * ```ts ignore
 * import { serveTcp } from "./mod.ts";
 * import { ChunkReader } from "../io/chunk_reader.ts";
 * import { writeAll } from "../io/write_all.ts";
 *
 * const server = serveTcp(async (conn) => {
 *   const reader = new ChunkReader(conn);
 *   for (let chunk; (chunk = await reader.read()) !== null;) await writeAll(conn, chunk);
 * }, { port: 0 });
 * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
 * await server.finished;
 * ```
 *
 * @module
 */
export * from "./connect_tcp.ts";
export * from "./connection_handler.ts";
export * from "./echo_handler.ts";
export * from "./echo_round_trip.ts";
export * from "./echo_worker.ts";
export * from "./looks_like_tls_alert.ts";
export * from "./refusal_handler.ts";
export * from "./serve_tcp.ts";
export * from "./tls_certified_key.ts";
