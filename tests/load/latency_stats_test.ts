import assert from "node:assert/strict";
import { LatencyRecorder, percentile } from "../../lib/load/latency_stats.ts";

Deno.test("percentile takes the nearest rank, clamped to the ends", () => {
  const sorted = new Float64Array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  const table: [number, number][] = [
    [0, 10], // rank below 1 clamps to the smallest
    [0.1, 10],
    [0.5, 50],
    [0.51, 60],
    [0.99, 100],
    [1, 100],
  ];
  for (const [p, expected] of table) assert.equal(percentile(sorted, p), expected, `p=${p}`);
  assert.equal(percentile(new Float64Array(0), 0.5), 0, "no samples");
  assert.equal(percentile([7], 0.99), 7, "one sample");
});

Deno.test("LatencyRecorder summarises count, min, avg, p50, p99, max and mdev", () => {
  const recorder = new LatencyRecorder();
  for (const ms of [4, 2, 8, 6]) recorder.record(ms);
  const summary = recorder.summary();
  assert.equal(summary.count, 4);
  assert.equal(summary.min, 2);
  assert.equal(summary.max, 8);
  assert.equal(summary.avg, 5);
  assert.equal(summary.p50, 4);
  assert.equal(summary.p99, 8);
  assert.ok(Math.abs(summary.mdev - Math.sqrt(5)) < 1e-9, `mdev ${summary.mdev}`);
});

Deno.test("LatencyRecorder sorts samples numerically, not as text", () => {
  const recorder = new LatencyRecorder();
  for (const ms of [100, 9, 20]) recorder.record(ms);
  assert.equal(recorder.summary().p50, 20);
});

Deno.test("LatencyRecorder with no samples summarises to zeros", () => {
  assert.deepEqual(new LatencyRecorder().summary(), {
    count: 0,
    min: 0,
    avg: 0,
    p50: 0,
    p99: 0,
    max: 0,
    mdev: 0,
  });
});

Deno.test("LatencyRecorder keeps exact count, min, max and avg beyond maxSamples", () => {
  const recorder = new LatencyRecorder({ maxSamples: 10 });
  for (let i = 1; i <= 1000; i++) recorder.record(i);
  const summary = recorder.summary();
  assert.equal(summary.count, 1000);
  assert.equal(recorder.count, 1000);
  assert.equal(summary.min, 1);
  assert.equal(summary.max, 1000);
  assert.equal(summary.avg, 500.5);
  // The percentiles come from a 10-sample reservoir: only their range is certain.
  assert.ok(summary.p50 >= 1 && summary.p50 <= 1000);
});
