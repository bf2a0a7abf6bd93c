import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashFilePrefix, type SeekableReader } from "../../lib/file_transfer/hash_file_prefix.ts";

/** An in-memory file that counts reads and can return short reads. */
function memoryFile(bytes: Uint8Array, maxRead = Infinity): SeekableReader & { reads: number } {
  let position = 0;
  return {
    reads: 0,
    seek(offset: number) {
      position = offset;
      return Promise.resolve(position);
    },
    read(p: Uint8Array) {
      this.reads++;
      if (position >= bytes.length) return Promise.resolve(null);
      const n = Math.min(p.length, bytes.length - position, maxRead);
      p.set(bytes.subarray(position, position + n));
      position += n;
      return Promise.resolve(n);
    },
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const BYTES = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);

Deno.test("hashFilePrefix hashes exactly the first length bytes, across buffer sizes and short reads", async () => {
  const table: [string, number, number, number][] = [
    // [comment, length, bufferSize, maxRead]
    ["whole file in one buffer", 1000, 4096, Infinity],
    ["prefix smaller than the buffer", 10, 4096, Infinity],
    ["buffer smaller than the prefix", 999, 64, Infinity],
    ["short reads from the file", 500, 4096, 3],
    ["empty prefix", 0, 64, Infinity],
  ];
  for (const [comment, length, bufferSize, maxRead] of table) {
    const file = memoryFile(BYTES, maxRead);
    const hash = await hashFilePrefix(file, length, { bufferSize });
    assert.equal(hash.digest("hex"), sha256(BYTES.subarray(0, length)), comment);
  }
});

Deno.test("hashFilePrefix returns a hash that goes on over later bytes (resume)", async () => {
  const hash = await hashFilePrefix(memoryFile(BYTES), 400);
  hash.update(BYTES.subarray(400));
  assert.equal(hash.digest("hex"), sha256(BYTES));
});

Deno.test("hashFilePrefix uses bounded memory: reads of at most bufferSize bytes", async () => {
  const file = memoryFile(BYTES);
  const progress: number[] = [];
  await hashFilePrefix(file, 1000, { bufferSize: 100, onProgress: (n) => progress.push(n) });
  assert.equal(file.reads, 10);
  assert.deepEqual(progress, [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
});

Deno.test("hashFilePrefix throws RangeError when the file is shorter than length", async () => {
  await assert.rejects(
    () => hashFilePrefix(memoryFile(BYTES), 1001),
    (error) => error instanceof RangeError && /ended after 1000 of 1001 bytes/.test(error.message),
  );
});
