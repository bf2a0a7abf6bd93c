import assert from "node:assert/strict";
import { StreamFaultSchedule } from "../../lib/proxy/fault_schedule.ts";
import { type PipeSink, type PipeSource, pipeStream } from "../../lib/proxy/pipe_stream.ts";

/** A source of `count` chunks of `size` bytes that logs each read. */
function source(count: number, size: number, log: string[]): PipeSource {
  let left = count;
  return {
    read(p) {
      log.push("read");
      if (left-- <= 0) return Promise.resolve(null);
      const n = Math.min(size, p.length);
      p.fill(1, 0, n);
      return Promise.resolve(n);
    },
  };
}

/** A sink whose writes finish a macrotask later (a slow receiver), logging start and end. */
function slowSink(log: string[]): PipeSink & { bytes: number } {
  return {
    bytes: 0,
    write(p) {
      log.push("write");
      return new Promise((resolve) =>
        setTimeout(() => {
          this.bytes += p.length;
          log.push("written");
          resolve(p.length);
        }, 0)
      );
    },
    closeWrite() {
      log.push("fin");
      return Promise.resolve();
    },
  };
}

Deno.test("pipeStream awaits each write before the next read (backpressure)", async () => {
  const log: string[] = [];
  const sink = slowSink(log);
  const result = await pipeStream(source(5, 100, log), sink).ended;
  assert.equal(result.end, "eof");
  assert.equal(sink.bytes, 500);
  // Strict alternation: a read never starts while a write is pending.
  assert.deepEqual(log, [
    ..."read write written ".repeat(5).trim().split(" "),
    "read",
    "fin",
  ]);
});

Deno.test("pipeStream with latency keeps at most maxQueuedBytes waiting", async () => {
  const log: string[] = [];
  const sink = slowSink(log);
  const pipe = pipeStream(source(50, 1000, log), sink, {
    faults: new StreamFaultSchedule({ latency: 1 }),
    bufferSize: 1000,
    maxQueuedBytes: 4000,
  });
  const result = await pipe.ended;
  await pipe.settled;
  assert.equal(result.end, "eof");
  assert.equal(sink.bytes, 50_000);
  // The reader stops at the limit and never reads more than the room left.
  assert.ok(result.maxQueuedBytes <= 4000, `queued up to ${result.maxQueuedBytes}`);
});

Deno.test("pipeStream with latency reads no more than the queue has room for, however big the buffer", async () => {
  // Regression: with a read buffer larger than maxQueuedBytes (the 4 MiB
  // default against a 1 MiB queue), one read could overshoot the queue
  // limit by a whole buffer.
  const log: string[] = [];
  const sink = slowSink(log);
  const pipe = pipeStream(source(20, 3000, log), sink, {
    faults: new StreamFaultSchedule({ latency: 1 }),
    bufferSize: 65_536,
    maxQueuedBytes: 4000,
  });
  const result = await pipe.ended;
  await pipe.settled;
  assert.equal(result.end, "eof");
  assert.equal(sink.bytes, result.bytes); // the fake source gives less when asked for less
  assert.ok(result.maxQueuedBytes <= 4000, `queued up to ${result.maxQueuedBytes}`);
});

Deno.test("pipeStream reads no further than resetAfter allows", async () => {
  const log: string[] = [];
  const sink = slowSink(log);
  const result = await pipeStream(source(10, 1000, log), sink, { resetAfter: 2500 }).ended;
  assert.equal(result.end, "reset-after");
  assert.equal(result.bytes, 2500);
  assert.equal(sink.bytes, 2500);
  assert.ok(!log.includes("fin"), "a reset is not a half-close");
});

Deno.test("pipeStream slices writes and reports a failing write", async () => {
  const writes: number[] = [];
  let calls = 0;
  const sink: PipeSink = {
    write(p) {
      if (++calls > 3) return Promise.reject(new Deno.errors.BrokenPipe("gone"));
      writes.push(p.length);
      return Promise.resolve(p.length);
    },
    closeWrite: () => Promise.resolve(),
  };
  const result = await pipeStream(source(1, 10, []), sink, {
    faults: new StreamFaultSchedule({ slice: 3, slicePause: 0 }),
  }).ended;
  assert.deepEqual(writes, [3, 3, 3]);
  assert.equal(result.end, "write-failed");
  assert.ok(result.error instanceof Deno.errors.BrokenPipe);
});

Deno.test("pipeStream ends with aborted at once, even with a read pending", async () => {
  const controller = new AbortController();
  const { promise: never, resolve } = Promise.withResolvers<number | null>();
  const pipe = pipeStream({ read: () => never }, slowSink([]), { signal: controller.signal });
  controller.abort();
  assert.equal((await pipe.ended).end, "aborted");
  resolve(null); // what closing the socket would do
  await pipe.settled;
});

Deno.test("pipeStream with latency never delivers a chunk early, though timers may fire early", async () => {
  const readAt: number[] = [];
  const writtenAt: number[] = [];
  let left = 40;
  const from: PipeSource = {
    read(p) {
      if (left-- <= 0) return Promise.resolve(null);
      p[0] = 1;
      // One chunk per macrotask, so each is read (and timed) on its own.
      return new Promise((resolve) =>
        setTimeout(() => {
          readAt.push(performance.now());
          resolve(1);
        }, 0)
      );
    },
  };
  const to: PipeSink = {
    write(p) {
      writtenAt.push(performance.now());
      return Promise.resolve(p.length);
    },
    closeWrite: () => Promise.resolve(),
  };
  const latency = 2.5; // a fractional delay, which a timer rounds
  const pipe = pipeStream(from, to, { faults: new StreamFaultSchedule({ latency }) });
  assert.equal((await pipe.ended).end, "eof");
  await pipe.settled;
  assert.equal(writtenAt.length, 40);
  // Each chunk is stamped as its read resolves, just before the pipe reads the clock for it.
  writtenAt.forEach((at, i) => {
    assert.ok(at - readAt[i]! >= latency, `chunk ${i} delivered after ${at - readAt[i]!} ms`);
  });
});
