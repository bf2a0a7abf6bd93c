/**
 * Collecting latency samples and summarising them as percentiles.
 *
 * @module
 */

/** A summary of latency samples, in milliseconds. */
export interface LatencySummary {
  /** How many samples were recorded. */
  count: number;
  /** The smallest sample. */
  min: number;
  /** The mean. */
  avg: number;
  /** The median. */
  p50: number;
  /** The 99th percentile. */
  p99: number;
  /** The largest sample. */
  max: number;
  /** The standard deviation, which `ping` reports as `mdev`. */
  mdev: number;
}

/** Options for {@linkcode LatencyRecorder}. */
export interface LatencyRecorderOptions {
  /**
   * The most samples kept; beyond it, a uniform random subset is kept
   * (reservoir sampling), so memory stays bounded in long runs.
   *
   * @default {1000000}
   */
  maxSamples?: number;
}

/**
 * Records latency samples in a bounded buffer and summarises them.
 *
 * @example
 * ```ts
 * import { LatencyRecorder } from "./latency_stats.ts";
 * import assert from "node:assert/strict";
 *
 * const recorder = new LatencyRecorder();
 * for (const ms of [1, 2, 3, 4, 100]) recorder.record(ms);
 * const summary = recorder.summary();
 * assert.equal(summary.p50, 3);
 * assert.equal(summary.max, 100);
 * assert.equal(summary.count, 5);
 * ```
 */
export class LatencyRecorder {
  #samples: Float64Array;
  #maxSamples: number;
  #kept = 0;
  #count = 0;
  #sum = 0;
  #sumSquares = 0;
  #min = Infinity;
  #max = -Infinity;

  /**
   * Creates a recorder.
   *
   * @param options The sample bound.
   */
  constructor(options: LatencyRecorderOptions = {}) {
    this.#maxSamples = options.maxSamples ?? 1_000_000;
    this.#samples = new Float64Array(Math.min(this.#maxSamples, 1 << 16));
  }

  /**
   * Adds one sample.
   *
   * @param ms The latency, in milliseconds.
   */
  record(ms: number): void {
    this.#count++;
    this.#sum += ms;
    this.#sumSquares += ms * ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
    if (this.#kept < this.#maxSamples) {
      if (this.#kept === this.#samples.length) {
        const grown = new Float64Array(Math.min(this.#samples.length * 2, this.#maxSamples));
        grown.set(this.#samples);
        this.#samples = grown;
      }
      this.#samples[this.#kept++] = ms;
    } else {
      const slot = Math.floor(Math.random() * this.#count);
      if (slot < this.#maxSamples) this.#samples[slot] = ms;
    }
  }

  /** How many samples were recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * Summarises the samples.
   *
   * @returns Count, min, avg, p50, p99, max and mdev; zeros when empty.
   */
  summary(): LatencySummary {
    if (this.#count === 0) return { count: 0, min: 0, avg: 0, p50: 0, p99: 0, max: 0, mdev: 0 };
    const sorted = this.#samples.slice(0, this.#kept).sort();
    const avg = this.#sum / this.#count;
    return {
      count: this.#count,
      min: this.#min,
      avg,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: this.#max,
      mdev: Math.sqrt(Math.max(0, this.#sumSquares / this.#count - avg * avg)),
    };
  }
}

/**
 * Returns the value at fraction `p` of sorted samples (nearest rank).
 *
 * @param sorted Samples in ascending order.
 * @param p A fraction from 0 to 1 (0.99 for p99).
 * @returns The sample at that rank, or 0 when there are none.
 *
 * @example
 * ```ts
 * import { percentile } from "./latency_stats.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(percentile(new Float64Array([1, 2, 3, 4]), 0.5), 2);
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}
