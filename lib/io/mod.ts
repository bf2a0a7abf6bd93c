/**
 * Stream I/O on a connection: reading in the sizes a protocol needs, writing
 * everything, and queueing output so one slow peer never stalls a server.
 *
 * Which reader to use when:
 * - {@linkcode ReadBuffer} (read_buffer.ts): the buffer you pass to
 *   `conn.read()` yourself, grown and shrunk to fit the traffic. Use it in a
 *   server holding thousands of mostly idle connections: it adds no promise
 *   per read (the TCP echo server uses it).
 * - {@linkcode ChunkReader} (chunk_reader.ts): `read()` returns the next chunk,
 *   whatever size arrived, or `null` at EOF, and leaves the connection open
 *   for writing (half-close). Use it to relay or echo bytes without caring
 *   where messages start.
 * - {@linkcode BufferedReader} (buffered_reader.ts): `readExact(n)`,
 *   `readFrame()` (length-prefixed) and `readSome(n)` mixed on one stream. Use
 *   it when a protocol alternates headers and payloads (file transfer).
 *
 * And for the other direction and cleanup:
 * - {@linkcode writeAll} (write_all.ts): `write()` may write fewer bytes than
 *   asked; this loops until all are written.
 * - {@linkcode OutboundQueue} (outbound_queue.ts): a bounded send queue per
 *   peer with its own writer, for broadcasts (chat, WebSocket).
 * - {@linkcode closeQuietly} (close_quietly.ts): close something that may be
 *   closed already; clients import it without pulling in server code.
 *
 * @example Exact reads over a stream that arrives one byte at a time
 * ```ts
 * import { BufferedReader } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = [1, 2, 3, 4, 5];
 * const oneByteAtATime = {
 *   read(p: Uint8Array): Promise<number | null> {
 *     const next = bytes.shift();
 *     if (next === undefined) return Promise.resolve(null);
 *     p[0] = next;
 *     return Promise.resolve(1);
 *   },
 * };
 * const reader = new BufferedReader(oneByteAtATime);
 * assert.deepEqual(await reader.readExact(3), new Uint8Array([1, 2, 3]));
 * assert.deepEqual(await reader.readSome(10), new Uint8Array([4]));
 * ```
 *
 * @module
 */
export * from "./buffer_budget.ts";
export * from "./buffered_reader.ts";
export * from "./chunk_reader.ts";
export * from "./close_quietly.ts";
export * from "./outbound_queue.ts";
export * from "./read_buffer.ts";
export * from "./write_all.ts";
export * from "./write_and_linger.ts";
