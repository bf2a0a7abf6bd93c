/**
 * Private helpers of `file_receiver.ts`: reading the connection with a
 * disconnect turned into {@linkcode Interrupted}, sniffing a text client,
 * and wording local errors.
 *
 * @module
 */

import { IncompleteFrameError } from "../framing/frame_errors.ts";
import { isDisconnectError } from "../net/net_errors.ts";

/** The connection ended before the transfer was complete. */
export class Interrupted extends Error {}

/** Awaits a read or write on the connection; a disconnect or early end becomes {@linkcode Interrupted}. */
export async function guard<T>(operation: Promise<T | null>): Promise<T> {
  let value: T | null;
  try {
    value = await operation;
  } catch (error) {
    if (isDisconnectError(error) || error instanceof IncompleteFrameError) {
      throw new Interrupted((error as Error).message);
    }
    throw error;
  }
  if (value === null) throw new Interrupted("end of stream");
  return value;
}

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

/** True if `path` exists (a dangling symlink counts). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A local (disk) error as the verdict's reason, with the permission flags for `dir`. */
export function describeLocalError(error: unknown, dir: string): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `permission denied (run with --allow-read=${dir} --allow-write=${dir})`;
  }
  return error instanceof Error ? error.message : String(error);
}
