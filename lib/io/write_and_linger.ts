/**
 * A last message to a peer, delivered reliably: write it, half-close, and read
 * (and discard) what the peer still sends until it closes too. A server that
 * refuses a client uses it.
 *
 * @module
 */

import { writeAll } from "./write_all.ts";

/** Options for {@linkcode writeAndLinger}. */
export interface WriteAndLingerOptions {
  /**
   * Stop lingering when this aborts; the caller then closes the connection.
   *
   * @default {undefined} (linger until the peer closes or `maxDrainBytes` arrived)
   */
  signal?: AbortSignal;
  /**
   * Stop lingering after discarding this many bytes from the peer (then
   * closing may reset the connection, as without lingering).
   *
   * @default {1048576}
   */
  maxDrainBytes?: number;
}

/** Default {@linkcode WriteAndLingerOptions.maxDrainBytes}: 1 MiB. */
export const DEFAULT_MAX_DRAIN_BYTES = 1024 * 1024;

/**
 * Writes `bytes`, shuts down the sending side (a FIN after the bytes), then
 * discards what the peer sends until it closes, `signal` aborts, or
 * `maxDrainBytes` arrived. Never throws: a peer that already left is not an
 * error here. Does not close `conn`; the caller does, afterwards.
 *
 * Why linger: closing a socket that still has unread bytes from the peer
 * makes the kernel send a reset instead of a FIN, and a reset can destroy the
 * message before the peer reads it (RFC 9112 §9.6). An HTTP client that sent
 * its request and is answered 503 at once is exactly that case (nginx calls
 * this "lingering close").
 *
 * ```ts ignore
 * // Bad: the request is unread, so close() sends RST and the 503 may be lost
 * await conn.write(response);
 * conn.close();
 * // Good: FIN after the 503, and the request is read and dropped first
 * await writeAndLinger(conn, response, { signal: AbortSignal.timeout(2_000) });
 * conn.close();
 * ```
 *
 * @param conn The connection; its read side is drained, its write side shut.
 * @param bytes The last message.
 * @param options A signal that ends the lingering, and a byte budget.
 * @returns When the message is written and the lingering is over.
 * @throws {RangeError} If `maxDrainBytes` is negative.
 *
 * @example A refusal that the client is sure to read
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { writeAndLinger } from "./write_and_linger.ts";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * await client.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
 * const refusing = writeAndLinger(server, new TextEncoder().encode("busy\n"));
 * const reply = new Uint8Array(16);
 * const n = await client.read(reply);
 * assert.equal(new TextDecoder().decode(reply.subarray(0, n!)), "busy\n");
 * assert.equal(await client.read(reply), null, "a FIN follows the message");
 * await client.closeWrite(); // the server stops lingering at our FIN
 * await refusing;
 * ```
 */
export async function writeAndLinger(
  conn: Deno.Conn,
  bytes: Uint8Array,
  options: WriteAndLingerOptions = {},
): Promise<void> {
  const { signal, maxDrainBytes = DEFAULT_MAX_DRAIN_BYTES } = options;
  if (!(maxDrainBytes >= 0)) {
    throw new RangeError(`Cannot linger: maxDrainBytes ${maxDrainBytes} is negative`);
  }
  try {
    await writeAll(conn, bytes);
    await conn.closeWrite();
  } catch {
    return; // the peer left, or the caller closed the connection
  }
  if (signal?.aborted) return;
  const { promise: aborted, resolve } = Promise.withResolvers<null>();
  const onAbort = () => resolve(null);
  signal?.addEventListener("abort", onAbort, { once: true });
  const buffer = new Uint8Array(Math.min(4096, Math.max(1, maxDrainBytes)));
  try {
    for (let drained = 0; drained < maxDrainBytes;) {
      // A read cannot be cancelled: after an abort it stays pending until the
      // caller closes the connection, and then fails quietly here.
      const n = await Promise.race([conn.read(buffer).catch(() => null), aborted]);
      if (n === null) return;
      drained += n;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
