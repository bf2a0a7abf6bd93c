/**
 * Hashing the first bytes of a file incrementally, with bounded memory, so
 * the hash can go on over bytes that arrive later (a resumed download).
 *
 * Web Crypto's `crypto.subtle.digest` only hashes a buffer held whole in
 * memory; the runtime's built-in `node:crypto` `createHash` can be fed piece
 * by piece and copied, which is what resuming a transfer needs.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";

/** What {@linkcode hashFilePrefix} reads: an open file, or anything with the same `read` and `seek`. */
export interface SeekableReader {
  /** Moves the position to `offset` bytes from the start. */
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
  /** Reads up to `p.length` bytes; `null` at the end. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode hashFilePrefix}. */
export interface HashFilePrefixOptions {
  /**
   * The read buffer size, in bytes: the memory used, whatever the file size.
   *
   * @default {262144}
   */
  bufferSize?: number;
  /** Called after each piece with the bytes hashed so far (for a progress display). */
  onProgress?: (hashed: number) => void;
}

/**
 * Reads bytes `0..length` of an open file into a new SHA-256 hash and
 * returns the hash, still open for more `update()` calls. The file's
 * position is left at `length`.
 *
 * @param file A file opened for reading (`Deno.FsFile`).
 * @param length How many bytes from the start to hash.
 * @param options Buffer size and progress.
 * @returns The running hash (`hash.copy().digest("hex")` gives the prefix's digest).
 * @throws {RangeError} If the file holds fewer than `length` bytes.
 *
 * @example Hash a part file, then go on with the bytes that arrive
 * ```ts ignore
 * import { hashFilePrefix } from "./hash_file_prefix.ts";
 *
 * using file = await Deno.open("received/.x.bin.part", { read: true, write: true });
 * const have = (await file.stat()).size;
 * const hash = await hashFilePrefix(file, have);
 * console.log(`have ${have} bytes, sha256 ${hash.copy().digest("hex")}`);
 * // ...then for each chunk from the network: hash.update(chunk); write it at `have`...
 * ```
 *
 * @example With an in-memory "file"
 * ```ts
 * import { hashFilePrefix } from "./hash_file_prefix.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("abcdef");
 * let position = 0;
 * const file = {
 *   seek(offset: number) {
 *     position = offset;
 *     return Promise.resolve(position);
 *   },
 *   read(p: Uint8Array) {
 *     if (position >= bytes.length) return Promise.resolve(null);
 *     const n = Math.min(p.length, bytes.length - position);
 *     p.set(bytes.subarray(position, position + n));
 *     position += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * const hash = await hashFilePrefix(file, 3);
 * // SHA-256("abc")
 * assert.match(hash.copy().digest("hex"), /^ba7816bf/);
 * hash.update("def"); // go on as if the rest arrived from the network
 * assert.equal(position, 3);
 * ```
 */
export async function hashFilePrefix(
  file: SeekableReader,
  length: number,
  options: HashFilePrefixOptions = {},
): Promise<Hash> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(options.bufferSize ?? 262_144);
  await file.seek(0, Deno.SeekMode.Start);
  let hashed = 0;
  while (hashed < length) {
    const n = await file.read(buffer.subarray(0, Math.min(buffer.length, length - hashed)));
    if (n === null) {
      throw new RangeError(
        `Cannot hash file prefix: the file ended after ${hashed} of ${length} bytes`,
      );
    }
    hash.update(buffer.subarray(0, n));
    hashed += n;
    options.onProgress?.(hashed);
  }
  return hash;
}
