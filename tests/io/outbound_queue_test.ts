import assert from "node:assert/strict";
import { OutboundQueue, type OutboundQueueFailure } from "../../lib/io/outbound_queue.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";

/** A writer whose writes complete only when the test says so. */
class ManualWriter {
  writes: Uint8Array[] = [];
  #pending: { resolve: (n: number) => void; reject: (e: unknown) => void }[] = [];
  write(p: Uint8Array): Promise<number> {
    this.writes.push(p.slice());
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    this.#pending.push({ resolve: () => resolve(p.length), reject });
    return promise;
  }
  /** Completes the oldest pending write in full. */
  completeOne(): void {
    this.#pending.shift()?.resolve(0);
  }
  failOne(error: unknown): void {
    this.#pending.shift()?.reject(error);
  }
  get pendingCount(): number {
    return this.#pending.length;
  }
}

/** Yields to the event loop until `condition` holds (bounded). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = AbortSignal.timeout(5000);
  while (!condition()) {
    if (deadline.aborted) throw new Error("condition not met within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join("");

async function tcpPair(): Promise<{ server: Deno.Conn; client: Deno.Conn } & Disposable> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return {
    client,
    server,
    [Symbol.dispose]() {
      closeQuietly(client);
      closeQuietly(server);
    },
  };
}

Deno.test("OutboundQueue writes chunks in order and joins the ones queued meanwhile into one write", async () => {
  const writer = new ManualWriter();
  const queue = new OutboundQueue(writer);
  assert.equal(queue.enqueue(bytes("a\n")), true); // starts a write at once
  for (const line of ["b\n", "c\n", "d\n"]) queue.enqueue(bytes(line));
  assert.equal(queue.bufferedBytes, 8);
  await until(() => writer.pendingCount === 1);
  writer.completeOne();
  await until(() => writer.writes.length === 2);
  assert.deepEqual(writer.writes.map((w) => new TextDecoder().decode(w)), ["a\n", "b\nc\nd\n"]);
  writer.completeOne();
  assert.equal(await queue.end(), true);
  assert.equal(queue.bufferedBytes, 0);
});

Deno.test("OutboundQueue never writes more than maxWriteSize at once, except a single larger chunk", async () => {
  const writer = new ManualWriter();
  const queue = new OutboundQueue(writer, { maxWriteSize: 4 });
  for (const chunk of ["aa", "bb", "cc", "dddddd", "e"]) queue.enqueue(bytes(chunk));
  const done = queue.end();
  while (writer.writes.length < 4 || writer.pendingCount > 0) {
    await until(() => writer.pendingCount > 0);
    writer.completeOne();
  }
  assert.equal(await done, true);
  assert.deepEqual(writer.writes.map((w) => new TextDecoder().decode(w)), [
    "aa",
    "bbcc",
    "dddddd",
    "e",
  ]);
});

Deno.test("OutboundQueue cuts off a peer that never reads at the hard limit and frees its data", async () => {
  using pair = await tcpPair();
  const failures: OutboundQueueFailure[] = [];
  const queue = new OutboundQueue(pair.server, {
    hardLimit: 1_048_576,
    onFailure: (failure) => failures.push(failure),
  });
  const chunk = new Uint8Array(16_384);
  let sent = 0;
  // The kernel absorbs a few MiB first; bound the loop in count as well as time.
  while (queue.enqueue(chunk)) {
    sent += chunk.length;
    assert.ok(sent < 256 * 1_048_576, "hard limit never reached");
    if (queue.bufferedBytes > 512 * 1024) await new Promise((r) => setTimeout(r, 1));
    else await new Promise((r) => setTimeout(r, 0));
  }
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.kind, "hardLimit");
  assert.match(failures[0]!.message, /exceed the hard limit of 1048576 bytes/);
  assert.equal(queue.failed, true);
  // Only the write already handed to the socket may still be counted.
  assert.ok(queue.bufferedBytes <= 65_536, `still holding ${queue.bufferedBytes} bytes`);
  assert.equal(queue.enqueue(chunk), false);
  closeQuietly(pair.server); // ends the stuck write
  await until(() => queue.bufferedBytes === 0);
});

Deno.test("OutboundQueue cuts off a peer held above the soft limit for softTimeout", async () => {
  const writer = new ManualWriter();
  const failed = Promise.withResolvers<OutboundQueueFailure>();
  const started = performance.now();
  const queue = new OutboundQueue(writer, {
    softLimit: 100,
    hardLimit: 1000,
    softTimeout: 50,
    onFailure: failed.resolve,
  });
  queue.enqueue(new Uint8Array(150));
  const failure = await failed.promise;
  assert.equal(failure.kind, "softLimit");
  // A lower bound only: the timer cannot fire sooner on any machine (5 ms of
  // slack for timer rounding); it proves the cut came from softTimeout.
  assert.ok(performance.now() - started >= 45);
  assert.equal(queue.enqueue(new Uint8Array(1)), false);
  writer.completeOne();
});

Deno.test("OutboundQueue forgives a peer that drains below the soft limit in time", async () => {
  const writer = new ManualWriter();
  let failures = 0;
  const queue = new OutboundQueue(writer, {
    softLimit: 100,
    hardLimit: 1000,
    softTimeout: 50,
    onFailure: () => failures++,
  });
  queue.enqueue(new Uint8Array(150));
  writer.completeOne();
  await until(() => queue.bufferedBytes === 0);
  // Waiting past the soft timeout is the assertion here: no failure may fire.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(failures, 0);
  assert.equal(await queue.end(), true);
});

Deno.test("OutboundQueue reports a failed write once and stops", async () => {
  const writer = new ManualWriter();
  const failures: OutboundQueueFailure[] = [];
  const queue = new OutboundQueue(writer, { onFailure: (f) => failures.push(f) });
  queue.enqueue(bytes("one\n"));
  queue.enqueue(bytes("two\n"));
  writer.failOne(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
  await until(() => failures.length === 1);
  assert.equal(failures[0]!.kind, "writeError");
  assert.equal(queue.enqueue(bytes("three\n")), false);
  assert.equal(queue.bufferedBytes, 0);
  assert.equal(writer.writes.length, 1);
});

Deno.test("OutboundQueue end() sends the final chunk after everything queued, over a real socket", async () => {
  using pair = await tcpPair();
  const queue = new OutboundQueue(pair.server);
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`);
  for (const line of lines) queue.enqueue(bytes(line));
  const ended = queue.end(bytes("bye\n"));
  assert.equal(queue.enqueue(bytes("late\n")), false);
  assert.equal(await ended, true);
  closeQuietly(pair.server);
  const received = await new Response(pair.client.readable).text();
  assert.equal(received, lines.join("") + "bye\n");
});

Deno.test("OutboundQueue end() gives up after its timeout when the peer does not read", async () => {
  const writer = new ManualWriter();
  const queue = new OutboundQueue(writer);
  queue.enqueue(bytes("stuck\n"));
  assert.equal(await queue.end(bytes("bye\n"), 20), false);
  writer.completeOne();
  await until(() => writer.writes.length === 2);
  assert.equal(text(writer.writes), "stuck\nbye\n");
  writer.completeOne();
});

Deno.test("OutboundQueue rejects limits that are not positive or a soft limit above the hard one", () => {
  const writer = new ManualWriter();
  assert.throws(() => new OutboundQueue(writer, { hardLimit: 0 }), RangeError);
  assert.throws(() => new OutboundQueue(writer, { softLimit: 10, hardLimit: 5 }), RangeError);
});

Deno.test("OutboundQueue end() resolves false when a write fails while it waits", async () => {
  const writer = new ManualWriter();
  const queue = new OutboundQueue(writer, { onFailure: () => {} });
  queue.enqueue(bytes("one\n"));
  const ended = queue.end(bytes("bye\n"));
  writer.failOne(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
  assert.equal(await ended, false, "nothing after the failed write was sent");
  assert.equal(writer.writes.length, 1);
});
