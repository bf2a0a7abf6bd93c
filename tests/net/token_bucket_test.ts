import assert from "node:assert/strict";
import { TokenBucket } from "../../lib/net/token_bucket.ts";

Deno.test("TokenBucket allows a burst of capacity, then the refill rate", () => {
  let now = 1000;
  const bucket = new TokenBucket({ capacity: 20, refillPerSecond: 10, now: () => now });
  let allowed = 0;
  for (let i = 0; i < 30; i++) if (bucket.take()) allowed++;
  assert.equal(allowed, 20);
  now += 100; // 0.1 s at 10/s: one token
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  now += 10_000; // refills to capacity, not beyond
  assert.equal(bucket.tokens, 20);
});

Deno.test("TokenBucket holds the long-run rate over simulated time", () => {
  let now = 0;
  const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 10, now: () => now });
  let allowed = 0;
  // A client trying 100 lines/s for 10 s gets the burst plus 10/s.
  for (let step = 0; step < 1000; step++) {
    if (bucket.take()) allowed++;
    now += 10;
  }
  assert.equal(allowed >= 100 && allowed <= 106, true, `allowed ${allowed}`);
});

Deno.test("TokenBucket rejects a capacity or rate that is not positive", () => {
  assert.throws(() => new TokenBucket({ capacity: 0 }), RangeError);
  assert.throws(() => new TokenBucket({ refillPerSecond: -1 }), RangeError);
  assert.throws(() => new TokenBucket({ capacity: Infinity }), RangeError);
});
