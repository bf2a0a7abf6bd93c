/**
 * Slowing down repeated failures from one address, with bounded memory.
 *
 * @module
 */

/** Options for {@linkcode FailureThrottle}. */
export interface FailureThrottleOptions {
  /**
   * The delay after the first failure, in ms; it doubles with each further
   * failure from the same address.
   *
   * @default {250}
   */
  baseDelay?: number;
  /**
   * The longest delay, in ms.
   *
   * @default {5000}
   */
  maxDelay?: number;
  /**
   * How many addresses are remembered; when full, the one that failed least
   * recently is forgotten.
   *
   * @default {1024}
   */
  maxEntries?: number;
  /**
   * An address that has not failed for this long starts afresh, in ms.
   *
   * @default {600000}
   */
  forgetAfter?: number;
}

interface Entry {
  failures: number;
  last: number;
}

/**
 * Counts failures (a wrong secret, say) per address and says how long to
 * wait before answering the next one: a short delay that doubles with each
 * failure, up to a ceiling. An attacker guessing secrets from one address
 * gets a handful of guesses a second instead of thousands, while a user who
 * mistyped once waits a quarter of a second.
 *
 * The table is bounded: a `Map` kept in least-recently-failed order (a
 * failure moves its address to the end), so when it is full the first entry
 * is the one to drop. Many addresses (a botnet, or spoofed IPv6 addresses)
 * cannot make it grow past `maxEntries`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FailureThrottle } from "./failure_throttle.ts";
 *
 * const throttle = new FailureThrottle({ baseDelay: 100, maxDelay: 300 });
 * assert.equal(throttle.fail("10.0.0.1"), 100);
 * assert.equal(throttle.fail("10.0.0.1"), 200);
 * assert.equal(throttle.fail("10.0.0.1"), 300);
 * assert.equal(throttle.fail("10.0.0.2"), 100);
 * throttle.succeed("10.0.0.1");
 * assert.equal(throttle.fail("10.0.0.1"), 100);
 * ```
 */
export class FailureThrottle {
  #baseDelay: number;
  #maxDelay: number;
  #maxEntries: number;
  #forgetAfter: number;
  #entries = new Map<string, Entry>();

  /**
   * Creates an empty table.
   *
   * @param options Delays and the table's size.
   * @throws {RangeError} If `maxEntries` is not a positive integer.
   */
  constructor(options: FailureThrottleOptions = {}) {
    this.#baseDelay = options.baseDelay ?? 250;
    this.#maxDelay = options.maxDelay ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 1024;
    this.#forgetAfter = options.forgetAfter ?? 600_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new RangeError(
        `Cannot create FailureThrottle: maxEntries ${this.#maxEntries} is not a positive integer`,
      );
    }
  }

  /** How many addresses are remembered now (at most `maxEntries`). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Records a failure from `address`.
   *
   * @param address The peer's address (host only: its port changes each time).
   * @param now The time, in ms.
   * @returns How long to wait before answering it, in ms.
   */
  fail(address: string, now: number = Date.now()): number {
    const previous = this.#entries.get(address);
    const failures = previous && now - previous.last < this.#forgetAfter
      ? previous.failures + 1
      : 1;
    this.#entries.delete(address);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(address, { failures, last: now });
    return Math.min(this.#baseDelay * 2 ** Math.min(failures - 1, 30), this.#maxDelay);
  }

  /**
   * Forgets the failures of `address` (it proved itself).
   *
   * @param address The peer's address.
   */
  succeed(address: string): void {
    this.#entries.delete(address);
  }
}
