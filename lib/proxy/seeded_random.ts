/**
 * A small seeded random number generator, so a run of a fault-injecting proxy
 * can be repeated exactly.
 *
 * @module
 */

/**
 * A pseudo-random number generator that gives the same sequence for the same
 * seed (Mulberry32: 32 bits of state, fast, and good enough to decide which
 * datagram to drop; not for cryptography).
 *
 * `Math.random()` cannot be seeded and `crypto.getRandomValues()` is not
 * meant to repeat, so a proxy that should drop the same datagrams on every
 * run with `--seed 1` needs its own generator.
 *
 * @example The same seed gives the same sequence
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeededRandom } from "./seeded_random.ts";
 *
 * const a = new SeededRandom(1);
 * const b = new SeededRandom(1);
 * assert.deepEqual([a.next(), a.next()], [b.next(), b.next()]);
 * assert.ok(a.next() >= 0 && a.next() < 1);
 * ```
 */
export class SeededRandom {
  /** The seed this generator started from. */
  readonly seed: number;
  #state: number;

  /**
   * Creates a generator.
   *
   * @param seed An integer from 0 to 2^32 - 1.
   * @throws {RangeError} If `seed` is not an integer in that range.
   */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new RangeError(
        `Cannot create SeededRandom: seed ${seed} is not an integer from 0 to 4294967295`,
      );
    }
    this.seed = seed;
    this.#state = seed;
  }

  /**
   * The next number of the sequence.
   *
   * @returns A number from 0 (included) to 1 (excluded).
   */
  next(): number {
    // Mulberry32 (Tommy Ettinger): add a constant, then mix the bits.
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /**
   * A new generator for one stream of decisions (one client, one direction),
   * derived from this one's seed and `stream`, so that the decisions of one
   * stream do not depend on how its traffic interleaves with the others'.
   *
   * @param stream Which stream: any integer, e.g. `2 * session + direction`.
   * @returns A generator seeded from this seed and `stream`.
   * @throws {RangeError} If `stream` is not a safe integer.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SeededRandom } from "./seeded_random.ts";
   *
   * const up = new SeededRandom(1).fork(0);
   * assert.equal(up.next(), new SeededRandom(1).fork(0).next());
   * assert.notEqual(up.seed, new SeededRandom(1).fork(1).seed);
   * ```
   */
  fork(stream: number): SeededRandom {
    if (!Number.isSafeInteger(stream)) {
      throw new RangeError(`Cannot fork SeededRandom: stream ${stream} is not a safe integer`);
    }
    // Mix the seed and the stream number (a variant of MurmurHash3's finaliser).
    let h = (this.seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return new SeededRandom((h ^ (h >>> 16)) >>> 0);
  }
}

/**
 * Picks a seed at random, for runs without `--seed` (print it, so that the
 * run can be repeated).
 *
 * @returns An integer from 0 to 2^32 - 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomSeed } from "./seeded_random.ts";
 *
 * assert.ok(Number.isInteger(randomSeed()));
 * ```
 */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
