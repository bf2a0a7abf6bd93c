/**
 * Writing a whole buffer to a connection.
 *
 * @module
 */

/** Something with a `write` that may write fewer bytes than asked, like `Deno.Conn`. */
export interface Writer {
  /** Writes some of `p`, resolving to how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * Writes every byte of `data`, calling `write` again until nothing is left.
 *
 * `conn.write()` may write only part of the buffer when the kernel's send
 * buffer is nearly full, and returns how much it wrote. Ignoring that count
 * silently drops the tail:
 *
 * ```ts ignore
 * await conn.write(data);          // Bad: may write only part of data
 * await writeAll(conn, data);      // Good
 * ```
 *
 * Awaiting the write is also the backpressure: when the peer stops reading,
 * the write stays pending and the caller stops producing.
 *
 * @param writer The connection or other writer.
 * @param data The bytes to write.
 * @returns When everything was written.
 *
 * @example
 * ```ts ignore
 * import { writeAll } from "./write_all.ts";
 *
 * const conn = await Deno.connect({ port: 7000 });
 * await writeAll(conn, new TextEncoder().encode("hello\n"));
 * conn.close();
 * ```
 */
export async function writeAll(writer: Writer, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) {
    written += await writer.write(written === 0 ? data : data.subarray(written));
  }
}
