/**
 * A memory budget shared by many read buffers, so that big buffers for bulk
 * transfers stay bounded in total however many connections there are.
 *
 * @module
 */

/**
 * A count of bytes that buffers take from before they grow and give back
 * when they shrink or their connection ends. A {@linkcode ReadBuffer} given
 * a budget grows past its initial size only while the budget has room, so
 * `limit` bounds what all of them hold beyond their initial sizes.
 *
 * @example Two buffers sharing 1 MiB
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferBudget } from "./buffer_budget.ts";
 *
 * const budget = new BufferBudget(1_048_576);
 * assert.ok(budget.tryTake(786_432)); // the first connection grows its buffer
 * assert.ok(!budget.tryTake(524_288)); // no room for the second one's
 * budget.give(786_432); // the first connection ended
 * assert.ok(budget.tryTake(524_288));
 * assert.equal(budget.used, 524_288);
 * ```
 */
export class BufferBudget {
  #limit: number;
  #used = 0;
  #peak = 0;

  /**
   * Creates a budget.
   *
   * @param limit Bytes that may be taken at once, in total.
   * @throws {RangeError} If `limit` is not a non-negative integer.
   */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(
        `Cannot create BufferBudget: limit ${limit} is not a non-negative integer`,
      );
    }
    this.#limit = limit;
  }

  /** Bytes that may be taken at once, in total. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes taken and not given back. */
  get used(): number {
    return this.#used;
  }

  /** The most bytes taken at any one time. */
  get peak(): number {
    return this.#peak;
  }

  /**
   * Takes `bytes` if they fit in what is left.
   *
   * @param bytes How many bytes to take.
   * @returns Whether they were taken.
   */
  tryTake(bytes: number): boolean {
    if (this.#used + bytes > this.#limit) return false;
    this.#used += bytes;
    this.#peak = Math.max(this.#peak, this.#used);
    return true;
  }

  /**
   * Gives back `bytes` taken earlier.
   *
   * @param bytes How many bytes to give back.
   */
  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
