/**
 * One round trip to an echo server: write some bytes, read until as many
 * came back, within a timeout.
 *
 * @module
 */

import { ChunkReader } from "../io/chunk_reader.ts";
import { writeAll } from "../io/write_all.ts";
import { isDisconnectError } from "../net/net_errors.ts";

/** Options for {@linkcode echoRoundTrip}. */
export interface EchoRoundTripOptions {
  /**
   * How long to wait for the whole echo, in ms; then the connection is closed.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Called with the bytes once they are written (for a hex dump).
   *
   * @default {undefined}
   */
  onSend?: (bytes: Uint8Array) => void;
  /**
   * Called with each chunk read (for a hex dump).
   *
   * @default {undefined}
   */
  onReceive?: (chunk: Uint8Array) => void;
}

/**
 * Writes `data` and reads until as many bytes came back, the peer closed, or
 * `timeout` passed, then closes the connection. One `read()` is not one
 * message: the echo may come back in several chunks, so this counts bytes.
 *
 * @param conn A connection to an echo server; closed at the end.
 * @param data The bytes to send.
 * @param options Timeout and callbacks.
 * @returns What came back: `data.length` bytes, or fewer if the peer closed or the time ran out
 * (compare with `data` to check the echo).
 * @throws {Error} If writing or reading fails other than by a disconnect.
 *
 * @example
 * ```ts ignore
 * import { echoRoundTrip } from "./echo_round_trip.ts";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 7000 });
 * const sent = new TextEncoder().encode("hello\n");
 * const echo = await echoRoundTrip(conn, sent, { timeout: 2_000 });
 * console.log(echo.length === sent.length ? "echoed" : "short echo");
 * ```
 */
export async function echoRoundTrip(
  conn: Deno.Conn,
  data: Uint8Array,
  options: EchoRoundTripOptions = {},
): Promise<Uint8Array> {
  const received = new Uint8Array(data.length);
  let got = 0;
  // Closing the connection is how a pending read is cancelled.
  const timer = setTimeout(() => conn.close(), options.timeout ?? 5_000);
  try {
    await writeAll(conn, data);
    options.onSend?.(data);
    const reader = new ChunkReader(conn);
    while (got < data.length) {
      const chunk = await reader.read();
      if (chunk === null) break;
      options.onReceive?.(chunk);
      const take = chunk.subarray(0, data.length - got);
      received.set(take, got);
      got += take.length;
    }
  } catch (error) {
    if (!isDisconnectError(error)) throw error;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  return received.subarray(0, got);
}
