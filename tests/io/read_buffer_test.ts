import assert from "node:assert/strict";
import { BufferBudget } from "../../lib/io/buffer_budget.ts";
import { ReadBuffer } from "../../lib/io/read_buffer.ts";

Deno.test("ReadBuffer.take returns exactly the bytes the read reported", () => {
  const buffer = new ReadBuffer({ initialSize: 8 });
  buffer.bytes.set([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(buffer.take(3), new Uint8Array([1, 2, 3]));
  assert.equal(buffer.bytes.length, 8, "a partial read does not resize");
});

Deno.test("ReadBuffer doubles after each full read, up to maxSize", () => {
  const buffer = new ReadBuffer({ initialSize: 4, maxSize: 16 });
  const sizes = [buffer.bytes.length];
  for (let i = 0; i < 4; i++) {
    buffer.take(buffer.bytes.length);
    sizes.push(buffer.bytes.length);
  }
  assert.deepEqual(sizes, [4, 8, 16, 16, 16]);
});

Deno.test("ReadBuffer halves after 16 small reads in a row, never below initialSize", () => {
  const buffer = new ReadBuffer({ initialSize: 4, maxSize: 64 });
  while (buffer.bytes.length < 64) buffer.take(buffer.bytes.length);
  for (let i = 0; i < 15; i++) buffer.take(1);
  assert.equal(buffer.bytes.length, 64, "15 small reads are not a run yet");
  buffer.take(1);
  assert.equal(buffer.bytes.length, 32);
  for (let i = 0; i < 16 * 10; i++) buffer.take(0);
  assert.equal(buffer.bytes.length, 4);
});

Deno.test("ReadBuffer restarts the small-read count after a medium read", () => {
  const buffer = new ReadBuffer({ initialSize: 4, maxSize: 64 });
  while (buffer.bytes.length < 64) buffer.take(buffer.bytes.length);
  for (let i = 0; i < 15; i++) buffer.take(1);
  buffer.take(32); // half full: not small
  for (let i = 0; i < 15; i++) buffer.take(1);
  assert.equal(buffer.bytes.length, 64);
});

Deno.test("ReadBuffer keeps the previous chunk valid when it grows", () => {
  const buffer = new ReadBuffer({ initialSize: 2 });
  buffer.bytes.set([7, 8]);
  const chunk = buffer.take(2);
  buffer.bytes.fill(0);
  assert.deepEqual(chunk, new Uint8Array([7, 8]), "the new, larger array is a different one");
});

Deno.test("ReadBuffer refuses sizes that are not 1 <= initialSize <= maxSize", () => {
  for (
    const options of [{ initialSize: 0 }, { initialSize: 10, maxSize: 5 }, { initialSize: 1.5 }]
  ) {
    assert.throws(() => new ReadBuffer(options), RangeError, JSON.stringify(options));
  }
});

Deno.test("ReadBuffer with a budget grows only while the budget has room, and gives it back", () => {
  const budget = new BufferBudget(12);
  const a = new ReadBuffer({ initialSize: 4, maxSize: 64, budget });
  const b = new ReadBuffer({ initialSize: 4, maxSize: 64, budget });
  a.take(4); // 4 -> 8 takes 4
  a.take(8); // 8 -> 16 takes 8: the budget is spent
  assert.equal(a.bytes.length, 16);
  assert.equal(budget.used, 12);
  b.take(4);
  assert.equal(b.bytes.length, 4, "no room left: b stays at its initial size");
  a.take(16);
  assert.equal(a.bytes.length, 16, "nor does a grow further");
  for (let i = 0; i < 16; i++) a.take(1); // a run of small reads: 16 -> 8 gives 8 back
  assert.equal(a.bytes.length, 8);
  assert.equal(budget.used, 4);
  b.take(4);
  assert.equal(b.bytes.length, 8, "b grows into what a gave back");
  a.release();
  b.release();
  assert.equal(a.bytes.length, 4);
  assert.equal(budget.used, 0);
  assert.equal(budget.peak, 12);
});

Deno.test("ReadBuffer with an odd maxSize gives its budget back to the byte", () => {
  const budget = new BufferBudget(1_000);
  const buffer = new ReadBuffer({ initialSize: 100, maxSize: 333, budget });
  buffer.take(100);
  buffer.take(200);
  assert.equal(buffer.bytes.length, 333);
  for (let i = 0; i < 16; i++) buffer.take(1); // halves 333 to 166
  assert.equal(buffer.bytes.length, 166);
  assert.equal(budget.used, 66);
  buffer.release();
  assert.equal(budget.used, 0);
});
