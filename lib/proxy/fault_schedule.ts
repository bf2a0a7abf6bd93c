/**
 * What a bad network does to traffic, decided ahead of the sockets: when a
 * TCP chunk may be delivered (latency, jitter, bandwidth) and in how many
 * writes (slicing), and what happens to each datagram (loss, duplication,
 * reordering, delay). Pure and clock-driven, so it is tested without sockets.
 *
 * @module
 */

import { TokenBucket } from "../net/token_bucket.ts";

/** Options for {@linkcode StreamFaultSchedule}: the faults of one TCP direction. */
export interface StreamFaultOptions {
  /**
   * Delay added to every chunk, in ms.
   *
   * @default {0}
   */
  latency?: number;
  /**
   * Up to this many ms more, picked at random for each chunk. Chunks keep
   * their order: a chunk is never delivered before the one read before it.
   *
   * @default {0}
   */
  jitter?: number;
  /**
   * The most bytes per second forwarded (a token bucket holding 1/20 s of
   * traffic); `0` means no limit.
   *
   * @default {0}
   */
  bandwidth?: number;
  /**
   * Forward in writes of at most this many bytes; `0` forwards each chunk
   * in one write.
   *
   * @default {0}
   */
  slice?: number;
  /**
   * The pause after each sliced write, in ms, so that the receiver reads
   * the pieces one by one instead of finding them joined in its buffer.
   *
   * @default {1}
   */
  slicePause?: number;
  /**
   * Random numbers from 0 to 1, for the jitter.
   *
   * @default {Math.random}
   */
  random?: () => number;
  /**
   * The clock, in ms.
   *
   * @default {() => performance.now()}
   */
  now?: () => number;
}

/**
 * The timing of one TCP direction through a bad network: when each chunk
 * may be delivered, how big each write may be, and how long to wait for
 * bandwidth.
 *
 * @example Latency with jitter keeps chunks in order
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamFaultSchedule } from "./fault_schedule.ts";
 *
 * const randoms = [0.9, 0];
 * const schedule = new StreamFaultSchedule({
 *   latency: 100,
 *   jitter: 50,
 *   random: () => randoms.shift()!,
 * });
 * assert.equal(schedule.deliverAt(0), 145);
 * // Read 10 ms later with no jitter, but not delivered before the first.
 * assert.equal(schedule.deliverAt(10), 145);
 * ```
 */
export class StreamFaultSchedule {
  /** The options in effect, defaults applied. */
  readonly latency: number;
  /** See {@linkcode StreamFaultOptions.jitter}. */
  readonly jitter: number;
  /** See {@linkcode StreamFaultOptions.bandwidth}. */
  readonly bandwidth: number;
  /** See {@linkcode StreamFaultOptions.slice}. */
  readonly slice: number;
  /** See {@linkcode StreamFaultOptions.slicePause}. */
  readonly slicePause: number;
  #random: () => number;
  #now: () => number;
  #bucket: TokenBucket | null;
  #lastDelivery = -Infinity;

  /**
   * Creates a schedule.
   *
   * @param options The faults; none by default (a clean pass-through).
   * @throws {RangeError} If a value is negative or not a number, or `slice`
   *   is not an integer.
   */
  constructor(options: StreamFaultOptions = {}) {
    this.latency = nonNegative("latency", options.latency ?? 0);
    this.jitter = nonNegative("jitter", options.jitter ?? 0);
    this.bandwidth = nonNegative("bandwidth", options.bandwidth ?? 0);
    this.slice = nonNegative("slice", options.slice ?? 0);
    if (!Number.isInteger(this.slice)) {
      throw new RangeError(`Cannot schedule faults: slice ${this.slice} is not an integer`);
    }
    this.slicePause = nonNegative("slicePause", options.slicePause ?? 1);
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
    this.#bucket = this.bandwidth > 0
      ? new TokenBucket({
        capacity: Math.max(1, Math.min(65_536, Math.round(this.bandwidth / 20))),
        refillPerSecond: this.bandwidth,
        now: this.#now,
      })
      : null;
  }

  /** True when chunks are held back (latency or jitter), so they need a queue. */
  get delays(): boolean {
    return this.latency > 0 || this.jitter > 0;
  }

  /** True when this schedule changes nothing: a clean pass-through. */
  get clean(): boolean {
    return !this.delays && this.bandwidth === 0 && this.slice === 0;
  }

  /**
   * The largest write allowed: the slice size, or the token bucket's
   * capacity under a bandwidth limit, or `Infinity`.
   */
  get maxWrite(): number {
    const limits = [this.slice || Infinity, this.#bucket?.capacity ?? Infinity];
    return Math.min(...limits);
  }

  /**
   * When a chunk read at `readAt` may be delivered: `latency` plus random
   * jitter later, but never before the previous chunk (TCP keeps order).
   *
   * @param readAt When the chunk was read, on this schedule's clock.
   * @returns The delivery time, on the same clock.
   */
  deliverAt(readAt: number): number {
    const at = readAt + this.latency + this.jitter * this.#random();
    this.#lastDelivery = Math.max(this.#lastDelivery, at);
    return this.#lastDelivery;
  }

  /**
   * Takes bandwidth for a write of `bytes` (at most {@linkcode maxWrite}).
   *
   * @param bytes The size of the write about to be made.
   * @returns `0` when the write may go now (its bytes were taken from the
   *   bucket), or the ms to wait before asking again.
   */
  waitForBandwidth(bytes: number): number {
    if (!this.#bucket || this.#bucket.take(bytes)) return 0;
    return Math.max(1, ((bytes - this.#bucket.tokens) / this.bandwidth) * 1000);
  }
}

/** Options for {@linkcode DatagramFaultSchedule}: the faults of one UDP direction. */
export interface DatagramFaultOptions {
  /**
   * The fraction of datagrams dropped, 0 to 1.
   *
   * @default {0}
   */
  loss?: number;
  /**
   * The fraction of forwarded datagrams sent twice, 0 to 1.
   *
   * @default {0}
   */
  duplicate?: number;
  /**
   * The fraction of forwarded datagrams held back and sent after the next
   * one, 0 to 1.
   *
   * @default {0}
   */
  reorder?: number;
  /**
   * Delay added to every datagram, in ms.
   *
   * @default {0}
   */
  delay?: number;
  /**
   * Up to this many ms more, picked for each datagram. Unlike TCP chunks,
   * datagrams may overtake each other when jitter exceeds their spacing.
   *
   * @default {0}
   */
  jitter?: number;
  /**
   * Random numbers from 0 to 1; pass a {@linkcode SeededRandom}'s `next`
   * to repeat a run exactly.
   *
   * @default {Math.random}
   */
  random?: () => number;
}

/** What happens to one datagram. */
export interface DatagramFate {
  /** Dropped: nothing else applies. */
  lost: boolean;
  /** Sent twice. */
  duplicated: boolean;
  /** Held back and sent after the next datagram. */
  reordered: boolean;
  /** The delay before sending, in ms (delay plus jitter). */
  delay: number;
}

/**
 * Decides the fate of each datagram of one direction. Every decision draws
 * the same four random numbers, whatever the fractions, so the fate of the
 * n-th datagram depends only on the seed and n: a run repeats exactly.
 *
 * @example A quarter of the datagrams lost, the same ones on every run
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramFaultSchedule } from "./fault_schedule.ts";
 * import { SeededRandom } from "./seeded_random.ts";
 *
 * const run = () => {
 *   const random = new SeededRandom(1);
 *   const schedule = new DatagramFaultSchedule({ loss: 0.25, random: () => random.next() });
 *   return Array.from({ length: 100 }, () => schedule.next().lost);
 * };
 * assert.deepEqual(run(), run());
 * const lost = run().filter(Boolean).length;
 * assert.ok(lost > 10 && lost < 40);
 * ```
 */
export class DatagramFaultSchedule {
  /** See {@linkcode DatagramFaultOptions.loss}. */
  readonly loss: number;
  /** See {@linkcode DatagramFaultOptions.duplicate}. */
  readonly duplicate: number;
  /** See {@linkcode DatagramFaultOptions.reorder}. */
  readonly reorder: number;
  /** See {@linkcode DatagramFaultOptions.delay}. */
  readonly delay: number;
  /** See {@linkcode DatagramFaultOptions.jitter}. */
  readonly jitter: number;
  #random: () => number;

  /**
   * Creates a schedule.
   *
   * @param options The fractions and delays; none by default.
   * @throws {RangeError} If a fraction is outside 0 to 1, or a delay is negative.
   */
  constructor(options: DatagramFaultOptions = {}) {
    this.loss = fraction("loss", options.loss ?? 0);
    this.duplicate = fraction("duplicate", options.duplicate ?? 0);
    this.reorder = fraction("reorder", options.reorder ?? 0);
    this.delay = nonNegative("delay", options.delay ?? 0);
    this.jitter = nonNegative("jitter", options.jitter ?? 0);
    this.#random = options.random ?? Math.random;
  }

  /**
   * Decides the fate of the next datagram.
   *
   * @returns Whether it is lost, duplicated, reordered, and its delay.
   */
  next(): DatagramFate {
    const [loss, duplicate, reorder, jitter] = [
      this.#random(),
      this.#random(),
      this.#random(),
      this.#random(),
    ] as const;
    const lost = loss < this.loss;
    return {
      lost,
      duplicated: !lost && duplicate < this.duplicate,
      reordered: !lost && reorder < this.reorder,
      delay: this.delay + this.jitter * jitter,
    };
  }
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`Cannot schedule faults: ${name} ${value} is not a non-negative number`);
  }
  return value;
}

function fraction(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) {
    throw new RangeError(`Cannot schedule faults: ${name} ${value} is not a fraction from 0 to 1`);
  }
  return value;
}
