/**
 * Making a large file of random bytes to send, for benchmarks and tests.
 *
 * @module
 */

import { writeAll } from "../io/write_all.ts";

/** `crypto.getRandomValues` fills at most 65,536 bytes per call. */
const RANDOM_CHUNK = 65_536;

/**
 * Writes `size` random bytes to `path` (created or truncated), 1 MiB at a
 * time, so the memory used stays flat whatever the size. Random bytes do not
 * compress, and no two runs send the same file.
 *
 * @param path The file to write.
 * @param size How many bytes.
 * @returns When the file is written and closed.
 * @throws {RangeError} If `size` is not a non-negative safe integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeRandomFile } from "./write_random_file.ts";
 *
 * const path = await Deno.makeTempFile();
 * await writeRandomFile(path, 100_000);
 * assert.equal((await Deno.stat(path)).size, 100_000);
 * await Deno.remove(path);
 * ```
 */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot write random file: size ${size} is not a byte count`);
  }
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(1024 * 1024);
  for (let written = 0; written < size;) {
    const n = Math.min(chunk.length, size - written);
    for (let at = 0; at < n; at += RANDOM_CHUNK) {
      crypto.getRandomValues(chunk.subarray(at, Math.min(at + RANDOM_CHUNK, n)));
    }
    // file.write() may write less than asked, like conn.write().
    await writeAll(file, chunk.subarray(0, n));
    written += n;
  }
}
