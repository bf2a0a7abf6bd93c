/**
 * A small Redis client, written on the framing ideas of `lib/framing`: an
 * incremental RESP2/RESP3 decoder that checks every length from its header,
 * a binary-safe command encoder, `redis://` and `unix://` addresses, and a
 * client that pipelines commands, receives pub/sub messages as RESP3 pushes
 * on the same connection, times out late replies and reconnects with backoff,
 * restoring its subscriptions.
 *
 * Use {@linkcode RedisClient} to talk to a server; the decoder and encoder
 * are the pieces to read to learn the protocol.
 *
 * @module
 */
export * from "./redis_address.ts";
export * from "./redis_client.ts";
export * from "./resp_decoder.ts";
export * from "./resp_encoder.ts";
