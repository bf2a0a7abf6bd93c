import assert from "node:assert/strict";
import { DatagramFaultSchedule, StreamFaultSchedule } from "../../lib/proxy/fault_schedule.ts";
import { DatagramShaper } from "../../lib/proxy/datagram_shaper.ts";
import { SeededRandom } from "../../lib/proxy/seeded_random.ts";

Deno.test("StreamFaultSchedule: no options is a clean pass-through", () => {
  const schedule = new StreamFaultSchedule();
  assert.ok(schedule.clean);
  assert.ok(!schedule.delays);
  assert.equal(schedule.maxWrite, Infinity);
  assert.equal(schedule.waitForBandwidth(1 << 20), 0);
});

Deno.test("StreamFaultSchedule: bandwidth refuses a write until the bucket has refilled", () => {
  let now = 0;
  const schedule = new StreamFaultSchedule({ bandwidth: 1000, now: () => now });
  // A bucket of 1/20 s of traffic: 50 bytes, full at the start.
  assert.equal(schedule.maxWrite, 50);
  assert.equal(schedule.waitForBandwidth(50), 0);
  assert.equal(schedule.waitForBandwidth(50), 50); // 50 bytes at 1000 B/s
  now += 50;
  assert.equal(schedule.waitForBandwidth(50), 0);
});

Deno.test("StreamFaultSchedule: slice and bandwidth together write the smaller piece", () => {
  assert.equal(new StreamFaultSchedule({ slice: 1, bandwidth: 1_000_000 }).maxWrite, 1);
  assert.equal(new StreamFaultSchedule({ slice: 100_000, bandwidth: 1000 }).maxWrite, 50);
});

Deno.test("StreamFaultSchedule rejects negative and fractional values", () => {
  assert.throws(() => new StreamFaultSchedule({ latency: -1 }), RangeError);
  assert.throws(() => new StreamFaultSchedule({ slice: 1.5 }), RangeError);
  assert.throws(() => new StreamFaultSchedule({ bandwidth: NaN }), RangeError);
});

Deno.test("DatagramFaultSchedule: a lost datagram is neither duplicated nor reordered", () => {
  const schedule = new DatagramFaultSchedule({ loss: 1, duplicate: 1, reorder: 1 });
  assert.deepEqual(schedule.next(), { lost: true, duplicated: false, reordered: false, delay: 0 });
  assert.throws(() => new DatagramFaultSchedule({ loss: 1.5 }), RangeError);
});

Deno.test("DatagramFaultSchedule: the n-th fate depends only on the seed, whatever the fractions", () => {
  const fates = (loss: number, duplicate: number) => {
    const random = new SeededRandom(42);
    const schedule = new DatagramFaultSchedule({ loss, duplicate, random: () => random.next() });
    return Array.from({ length: 200 }, () => schedule.next());
  };
  // Adding duplication does not change which datagrams are lost.
  assert.deepEqual(fates(0.3, 0).map((f) => f.lost), fates(0.3, 0.5).map((f) => f.lost));
});

Deno.test("DatagramShaper sends a reordered datagram right after the next one", () => {
  let n = 0;
  // Only the first datagram is picked for reordering.
  const schedule = {
    next: () => ({ lost: false, duplicated: false, reordered: n++ === 0, delay: 0 }),
  };
  const sent: number[] = [];
  const shaper = new DatagramShaper(
    schedule as DatagramFaultSchedule,
    (data) => Promise.resolve(sent.push(data[0]!)),
  );
  for (const value of [1, 2, 3]) shaper.push(new Uint8Array([value]));
  assert.deepEqual(sent, [2, 1, 3]);
  assert.equal(shaper.counts.reordered, 1);
  shaper.close();
});

Deno.test("DatagramShaper sends a held datagram after maxHold when none overtakes it", async () => {
  const schedule = new DatagramFaultSchedule({ reorder: 1 });
  const { promise, resolve } = Promise.withResolvers<number>();
  const shaper = new DatagramShaper(
    schedule,
    (data) => Promise.resolve(resolve(data[0]!)),
    { maxHold: 5 },
  );
  shaper.push(new Uint8Array([9]));
  assert.equal(await promise, 9);
  assert.equal(shaper.counts.reordered, 0, "it was delayed, not overtaken");
  shaper.close();
});

Deno.test("DatagramShaper counts losses and drops delayed datagrams beyond maxDelayed", () => {
  const shaper = new DatagramShaper(
    new DatagramFaultSchedule({ delay: 60_000 }),
    () => Promise.resolve(),
    { maxDelayed: 2 },
  );
  for (let i = 0; i < 5; i++) shaper.push(new Uint8Array(1));
  assert.equal(shaper.counts.overflow, 3);
  shaper.close(); // clears the two timers
  const lossy = new DatagramShaper(new DatagramFaultSchedule({ loss: 1 }), () => Promise.resolve());
  lossy.push(new Uint8Array(1));
  assert.deepEqual(lossy.counts, {
    received: 1,
    sent: 0,
    lost: 1,
    duplicated: 0,
    reordered: 0,
    overflow: 0,
  });
});

Deno.test("DatagramShaper never sends a delayed datagram early, though a timer drops the delay's fraction", async () => {
  const delay = 2.5;
  const late: number[] = [];
  for (let i = 0; i < 80; i++) {
    const { promise, resolve } = Promise.withResolvers<void>();
    const shaper = new DatagramShaper(new DatagramFaultSchedule({ delay }), () => {
      late.push(performance.now() - pushedAt);
      resolve();
      return Promise.resolve();
    });
    const pushedAt = performance.now();
    shaper.push(new Uint8Array(1));
    await promise;
    shaper.close();
  }
  const early = late.filter((ms) => ms < delay);
  assert.deepEqual(early, [], `sent early after ${early.join(", ")} ms`);
});
