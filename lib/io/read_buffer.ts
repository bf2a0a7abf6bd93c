/**
 * A read buffer that sizes itself to the traffic, for servers that keep many
 * connections open.
 *
 * @module
 */

import type { BufferBudget } from "./buffer_budget.ts";

/** Options for {@linkcode ReadBuffer}. */
export interface ReadBufferOptions {
  /**
   * The size to start with, in bytes. An idle connection holds only this
   * much while its read is pending, which keeps thousands of idle
   * connections cheap.
   *
   * @default {128}
   */
  initialSize?: number;
  /**
   * The largest size, in bytes. The buffer doubles each time a read fills
   * it, up to this size, and halves after a run of small reads.
   *
   * @default {65536}
   */
  maxSize?: number;
  /**
   * A budget shared with other buffers: the buffer grows past `initialSize`
   * only while the budget has room for the difference, and gives it back
   * when it shrinks or {@linkcode ReadBuffer.release} is called.
   *
   * @default {undefined} (no shared limit)
   */
  budget?: BufferBudget;
}

/** Reads in a row that use under a quarter of the buffer before it halves. */
const SMALL_READS_BEFORE_SHRINK = 16;

/**
 * The buffer to pass to `conn.read()`, resized between reads to fit the
 * traffic: it grows when a read fills it and shrinks after many small reads.
 *
 * It adds no promise or async function around `conn.read()`: on a server
 * with thousands of idle connections, every object attached to a pending
 * read is multiplied by thousands (the echo benchmark's idle figure).
 *
 * ```ts ignore
 * // Bad: ignores the count, so stale bytes from an earlier read leak out
 * await conn.read(buffer);
 * handle(buffer);
 *
 * // Good: use exactly the bytes that arrived
 * const n = await conn.read(readBuffer.bytes);
 * if (n === null) return; // the peer closed its sending side
 * handle(readBuffer.take(n));
 * ```
 *
 * @example Grows after a full read
 * ```ts
 * import { ReadBuffer } from "./read_buffer.ts";
 * import assert from "node:assert/strict";
 *
 * const buffer = new ReadBuffer({ initialSize: 4 });
 * buffer.bytes.set([1, 2, 3, 4]); // as if a read filled it
 * const chunk = buffer.take(4);
 * assert.deepEqual(chunk, new Uint8Array([1, 2, 3, 4]));
 * assert.equal(buffer.bytes.length, 8);
 * ```
 */
export class ReadBuffer {
  #bytes: Uint8Array;
  #minSize: number;
  #maxSize: number;
  #smallReads = 0;
  #budget: BufferBudget | undefined;

  /**
   * Creates a buffer.
   *
   * @param options Sizes.
   * @throws {RangeError} If the sizes are not positive integers with `initialSize <= maxSize`.
   */
  constructor(options: ReadBufferOptions = {}) {
    const initial = options.initialSize ?? 128;
    const max = options.maxSize ?? 65_536;
    if (!Number.isInteger(initial) || !Number.isInteger(max) || initial < 1 || initial > max) {
      throw new RangeError(
        `Cannot create ReadBuffer: need 1 <= initialSize (${initial}) <= maxSize (${max})`,
      );
    }
    this.#bytes = new Uint8Array(initial);
    this.#minSize = initial;
    this.#maxSize = max;
    this.#budget = options.budget;
  }

  /** The array to read into next. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /**
   * Returns the `n` bytes the last read put into `bytes`, and resizes for the
   * next read. The returned view is valid until the next read: copy it
   * (`chunk.slice()`) to keep it.
   *
   * @param n The count the read resolved to.
   * @returns A view of the bytes that arrived.
   */
  take(n: number): Uint8Array {
    const bytes = this.#bytes;
    if (n === bytes.length && n < this.#maxSize) {
      const size = Math.min(n * 2, this.#maxSize);
      if (this.#budget?.tryTake(size - n) ?? true) this.#bytes = new Uint8Array(size);
      this.#smallReads = 0;
    } else if (n < bytes.length / 4 && bytes.length > this.#minSize) {
      if (++this.#smallReads >= SMALL_READS_BEFORE_SHRINK) {
        const size = Math.max(Math.floor(bytes.length / 2), this.#minSize);
        this.#budget?.give(bytes.length - size);
        this.#bytes = new Uint8Array(size);
        this.#smallReads = 0;
      }
    } else {
      this.#smallReads = 0;
    }
    return bytes.subarray(0, n);
  }

  /**
   * Shrinks back to the initial size and gives what the buffer held beyond it
   * back to its budget: call it once the connection is done reading.
   */
  release(): void {
    this.#budget?.give(this.#bytes.length - this.#minSize);
    if (this.#bytes.length > this.#minSize) this.#bytes = new Uint8Array(this.#minSize);
  }
}
