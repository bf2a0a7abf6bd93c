/**
 * Per-source rate limiting for servers that answer datagrams: one
 * {@linkcode TokenBucket} per source address, in a table of bounded size.
 *
 * @module
 */

import { TokenBucket } from "../net/token_bucket.ts";

/** Options for {@linkcode SourceRateLimiter}. */
export interface SourceRateLimiterOptions {
  /**
   * Sustained datagrams per second allowed from one source.
   *
   * @default {10000}
   */
  rate?: number;
  /**
   * Datagrams one source may send in a burst above the rate (the bucket size).
   *
   * @default {the rate, i.e. one second's worth}
   */
  burst?: number;
  /**
   * The most sources tracked at once. A full table first forgets sources
   * whose bucket is full again (idle long enough to be like new); if none
   * is, datagrams from new sources are refused until one is.
   *
   * @default {10000}
   */
  maxSources?: number;
  /**
   * The clock, in ms; tests pass a fake one.
   *
   * @default {() => performance.now()}
   */
  now?: () => number;
}

/** What {@linkcode SourceRateLimiter.check} decided. */
export type RateLimitVerdict = "allowed" | "rate-limited" | "too-many-sources";

/** Forgetting idle sources scans the whole table, so do it at most this often. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * Limits how many datagrams each source may send per second, with memory
 * bounded by `maxSources`.
 *
 * @example Two datagrams in a burst, then refuse
 * ```ts
 * import { SourceRateLimiter } from "./source_rate_limiter.ts";
 * import assert from "node:assert/strict";
 *
 * const now = 0;
 * const limiter = new SourceRateLimiter({ rate: 1, burst: 2, now: () => now });
 * assert.equal(limiter.check("127.0.0.1"), "allowed");
 * assert.equal(limiter.check("127.0.0.1"), "allowed");
 * assert.equal(limiter.check("127.0.0.1"), "rate-limited");
 * assert.equal(limiter.check("::1"), "allowed"); // another source has its own bucket
 * ```
 */
export class SourceRateLimiter {
  #buckets = new Map<string, TokenBucket>();
  #rate: number;
  #burst: number;
  #maxSources: number;
  #now: () => number;
  #lastSweep = -Infinity;

  /**
   * Creates an empty limiter.
   *
   * @param options Rate, burst, table size and clock.
   * @throws {RangeError} If `rate` or `burst` is not positive, or
   *   `maxSources` is not a positive integer.
   */
  constructor(options: SourceRateLimiterOptions = {}) {
    this.#rate = options.rate ?? 10_000;
    this.#burst = options.burst ?? this.#rate;
    this.#maxSources = options.maxSources ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    if (!Number.isInteger(this.#maxSources) || this.#maxSources < 1) {
      throw new RangeError(
        `Cannot create SourceRateLimiter: maxSources ${this.#maxSources} is not a positive integer`,
      );
    }
    // Fails early, with TokenBucket's message, on a bad rate or burst.
    new TokenBucket({ capacity: this.#burst, refillPerSecond: this.#rate, now: this.#now });
  }

  /** How many sources are tracked now. */
  get sourceCount(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token from the source's bucket.
   *
   * @param source The source's key, usually its IP address.
   * @returns `"allowed"`, `"rate-limited"` (the source's bucket is empty) or
   *   `"too-many-sources"` (a new source and the table is full).
   */
  check(source: string): RateLimitVerdict {
    let bucket = this.#buckets.get(source);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxSources && !this.#sweep()) return "too-many-sources";
      bucket = new TokenBucket({
        capacity: this.#burst,
        refillPerSecond: this.#rate,
        now: this.#now,
      });
      this.#buckets.set(source, bucket);
    }
    return bucket.take() ? "allowed" : "rate-limited";
  }

  /** Forgets sources whose bucket is full; returns whether room was made. */
  #sweep(): boolean {
    const now = this.#now();
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return false;
    this.#lastSweep = now;
    for (const [source, bucket] of this.#buckets) {
      // A full bucket behaves exactly like a new one, so forgetting it is lossless.
      if (bucket.tokens >= bucket.capacity) this.#buckets.delete(source);
    }
    return this.#buckets.size < this.#maxSources;
  }
}
