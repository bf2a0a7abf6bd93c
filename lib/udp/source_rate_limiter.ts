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
   * The most sources tracked at once, which bounds the table's memory (about
   * 200 bytes a source). A new source always gets in: when the table is full,
   * the least recently seen source is forgotten to make room, as nginx's
   * `limit_req` does when its zone is full. Forgetting a source whose bucket
   * had refilled loses nothing; forgetting one that was still over its rate
   * gives it a fresh bucket when it returns (counted in `evictions`), so with
   * more sources active than this, each may get more than `rate`.
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
export type RateLimitVerdict = "allowed" | "rate-limited";

/**
 * Limits how many datagrams each source may send per second, with memory
 * bounded by `maxSources`.
 *
 * @example Two datagrams in a burst, then refuse
 * ```ts
 * import assert from "node:assert/strict";
 * import { SourceRateLimiter } from "./source_rate_limiter.ts";
 *
 * const now = 0;
 * const limiter = new SourceRateLimiter({ rate: 1, burst: 2, now: () => now });
 * assert.equal(limiter.check("127.0.0.1"), "allowed");
 * assert.equal(limiter.check("127.0.0.1"), "allowed");
 * assert.equal(limiter.check("127.0.0.1"), "rate-limited");
 * assert.equal(limiter.check("::1"), "allowed"); // another source has its own bucket
 * ```
 *
 * @example A full table still lets a newcomer in
 * ```ts
 * import assert from "node:assert/strict";
 * import { SourceRateLimiter } from "./source_rate_limiter.ts";
 *
 * const limiter = new SourceRateLimiter({ rate: 1, burst: 1, maxSources: 2, now: () => 0 });
 * limiter.check("a");
 * limiter.check("b");
 * assert.equal(limiter.check("c"), "allowed"); // "a", seen least recently, is forgotten
 * assert.equal(limiter.sourceCount, 2);
 * assert.equal(limiter.evictions, 1); // and its bucket was not full: its limit restarts
 * ```
 */
export class SourceRateLimiter {
  #buckets = new Map<string, TokenBucket>();
  #rate: number;
  #burst: number;
  #maxSources: number;
  #now: () => number;
  #evictions = 0;

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

  /** The table's size limit, {@linkcode SourceRateLimiterOptions.maxSources}. */
  get maxSources(): number {
    return this.#maxSources;
  }

  /** How many sources are tracked now. */
  get sourceCount(): number {
    return this.#buckets.size;
  }

  /**
   * How many sources were forgotten to make room while their bucket was not
   * yet full again (their limit restarted when they came back).
   */
  get evictions(): number {
    return this.#evictions;
  }

  /**
   * Takes one token from the source's bucket, making room for a new source
   * by forgetting the least recently seen one if the table is full.
   *
   * @param source The source's key, usually its IP address.
   * @returns `"allowed"`, or `"rate-limited"` when the source's bucket is empty.
   */
  check(source: string): RateLimitVerdict {
    let bucket = this.#buckets.get(source);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxSources) this.#evictLeastRecent();
      bucket = new TokenBucket({
        capacity: this.#burst,
        refillPerSecond: this.#rate,
        now: this.#now,
      });
    } else {
      // A Map iterates in insertion order: re-inserting keeps the least
      // recently seen source first, where #evictLeastRecent finds it.
      this.#buckets.delete(source);
    }
    this.#buckets.set(source, bucket);
    return bucket.take() ? "allowed" : "rate-limited";
  }

  #evictLeastRecent(): void {
    const oldest = this.#buckets.entries().next();
    if (oldest.done) return;
    const [source, bucket] = oldest.value;
    this.#buckets.delete(source);
    // A full bucket behaves exactly like a new one, so forgetting it is lossless.
    if (bucket.tokens < bucket.capacity) this.#evictions++;
  }
}
