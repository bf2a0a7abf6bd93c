/**
 * The answer to a client that does not speak the file-transfer protocol
 * (a file pushed with `nc`, a typed line, an HTTP request): plain text it can
 * read, instead of a framed verdict that would be binary noise.
 *
 * @module
 */

import type { BufferedReader } from "../io/buffered_reader.ts";
import { writeAll } from "../io/write_all.ts";
import { isDisconnectError } from "../net/net_errors.ts";

/** Input read and thrown away after the text hint, so the raw client reads it before a reset. */
const HINT_DRAIN_LIMIT = 1024 * 1024;

/** True if the 4 bytes of a frame length are printable ASCII or whitespace. */
export function looksLikeText(length: number): boolean {
  for (let shift = 24; shift >= 0; shift -= 8) {
    const byte = (length >>> shift) & 0xff;
    if (!(byte >= 0x20 && byte < 0x7f) && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) {
      return false;
    }
  }
  return true;
}

/** Writes `hint`, half-closes, then reads (bounded) what the client still sends. */
export async function sendTextHint(
  conn: Deno.Conn,
  reader: BufferedReader,
  hint: Uint8Array,
): Promise<void> {
  try {
    await writeAll(conn, hint);
    await conn.closeWrite();
    // Reading what it still sends (bounded) lets the hint arrive before
    // our close; closing with unread input would reset the connection.
    for (let drained = 0; drained < HINT_DRAIN_LIMIT;) {
      const chunk = await reader.readSome(65_536);
      if (chunk === null) break;
      drained += chunk.length;
    }
  } catch (error) {
    if (!isDisconnectError(error)) throw error;
  }
}
