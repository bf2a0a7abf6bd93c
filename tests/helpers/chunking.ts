/**
 * Test helper for stream parsers: cut a byte string into chunks the way a
 * socket might deliver it, with a seeded random source so a failing cut
 * reproduces (like std's `_test_utils.ts`).
 *
 * @module
 */

/**
 * Splits bytes at the given offsets (out-of-range and duplicate-free order
 * does not matter: offsets are sorted, and 0 or `length` add nothing).
 *
 * @param bytes The whole stream.
 * @param at Offsets to cut at.
 * @returns The chunks, in order, copies of `bytes`.
 */
export function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [
    0,
    ...at.filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b),
    bytes.length,
  ];
  return points.slice(1).map((end, i) => bytes.slice(points[i], end));
}

/**
 * A small deterministic PRNG (a linear congruential generator), so failures
 * reproduce from the seed.
 *
 * @param seed Any integer.
 * @returns A function returning numbers in [0, 1].
 */
export function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}
