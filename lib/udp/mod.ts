/**
 * UDP: datagrams, which may be lost, duplicated or reordered, and which
 * anyone can send to your port. Built on `Deno.listenDatagram` (needs
 * `--unstable-net`).
 *
 * - {@linkcode listenUdp} (listen_udp.ts): open a socket, with errors that say
 *   what to do. Use it directly for a one-off socket.
 * - {@linkcode serveUdp} (serve_udp.ts): a server loop with a per-source rate
 *   limit ({@linkcode SourceRateLimiter}, source_rate_limiter.ts), a size
 *   limit, drop counts by reason, and shutdown on Ctrl+C.
 * - {@linkcode DatagramRequester} (datagram_requester.ts): the client side:
 *   send, match the reply by id, resend after a timeout, give up after N tries
 *   with a {@linkcode DatagramTimeoutError} (datagram_timeout_error.ts).
 * - {@linkcode encodeEchoProbe} / {@linkcode decodeEchoProbe} (echo_probe.ts):
 *   the sequence-numbered, timestamped probe of the UDP client's ping and bench.
 *
 * @example
 * ```ts ignore
 * import { serveUdp } from "./mod.ts";
 *
 * const server = serveUdp((datagram) => datagram.slice(), { port: 0 });
 * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
 * await server.finished;
 * ```
 *
 * @module
 */
export * from "./datagram_requester.ts";
export * from "./datagram_timeout_error.ts";
export * from "./echo_probe.ts";
export * from "./listen_udp.ts";
export * from "./serve_udp.ts";
export * from "./source_rate_limiter.ts";
