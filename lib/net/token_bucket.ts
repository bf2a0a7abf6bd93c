/**
 * Rate limiting with a token bucket.
 *
 * @module
 */

/** Options for {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /**
   * The most tokens the bucket holds: how many actions may happen in a burst.
   * The bucket starts full.
   *
   * @default {20}
   */
  capacity?: number;
  /**
   * Tokens added per second: the sustained rate.
   *
   * @default {10}
   */
  refillPerSecond?: number;
  /**
   * The clock, in milliseconds; tests pass a fake one.
   *
   * @default {() => performance.now()}
   */
  now?: () => number;
}

/**
 * A token bucket: each action takes a token, tokens come back at a steady
 * rate, and an empty bucket refuses. It allows short bursts (up to
 * `capacity`) while holding the long-run rate to `refillPerSecond`.
 *
 * The bucket is refilled lazily from the elapsed time when it is used, so it
 * needs no timer and costs nothing while idle.
 *
 * @example Allow a burst of 2, then refuse
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * import assert from "node:assert/strict";
 *
 * let now = 0;
 * const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, now: () => now });
 * assert.equal(bucket.take(), true);
 * assert.equal(bucket.take(), true);
 * assert.equal(bucket.take(), false);
 * now += 1000; // one second later, one token is back
 * assert.equal(bucket.take(), true);
 * ```
 */
export class TokenBucket {
  #capacity: number;
  #refillPerMs: number;
  #now: () => number;
  #tokens: number;
  #last: number;

  /**
   * Creates a full bucket.
   *
   * @param options Burst size, rate and clock.
   * @throws {RangeError} If `capacity` or `refillPerSecond` is not a positive number.
   */
  constructor(options: TokenBucketOptions = {}) {
    const capacity = options.capacity ?? 20;
    const rate = options.refillPerSecond ?? 10;
    if (!(capacity > 0) || !Number.isFinite(capacity)) {
      throw new RangeError(
        `Cannot create TokenBucket: capacity ${capacity} is not a positive number`,
      );
    }
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new RangeError(
        `Cannot create TokenBucket: refillPerSecond ${rate} is not a positive number`,
      );
    }
    this.#capacity = capacity;
    this.#refillPerMs = rate / 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = capacity;
    this.#last = this.#now();
  }

  /** The bucket's capacity. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens available now (fractional while refilling). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /**
   * Takes `count` tokens if that many are available.
   *
   * @param count Tokens the action costs.
   * @returns `true` if the action may go ahead, `false` if the bucket is too empty
   * (then nothing is taken).
   */
  take(count = 1): boolean {
    this.#refill();
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#refillPerMs);
    }
  }
}
