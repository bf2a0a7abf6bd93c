/**
 * File transfer over real sockets on 127.0.0.1, in one process: the
 * receiver (`FileReceiver` behind `serveTcp`) and the sender (`sendFile`, or
 * a hand-written raw client for what the real sender never does: cutting at a
 * chosen byte, lying about the checksum, hostile names).
 */

import assert from "node:assert/strict";
import { BufferedReader } from "../../lib/io/buffered_reader.ts";
import { connectTcp } from "../../lib/tcp/connect_tcp.ts";
import {
  FileReceiver,
  type FileReceiverOptions,
  type ReceiveResult,
} from "../../lib/file_transfer/file_receiver.ts";
import { sendFile } from "../../lib/file_transfer/file_sender.ts";
import {
  decodeMessage,
  encodeMessage,
  FileTransferError,
  type ResumeMessage,
  type VerdictMessage,
} from "../../lib/file_transfer/file_transfer_protocol.ts";
import { encodeLengthPrefixed } from "../../lib/framing/length_prefixed.ts";
import { Logger } from "../../lib/cli/log.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { serveTcp, type TcpServer } from "../../lib/tcp/serve_tcp.ts";
import { writeAll } from "../../lib/io/write_all.ts";

const QUIET = new Logger({ level: "error", write: () => {} });
const FIXTURES = new URL("../fixtures/", import.meta.url);
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- helpers

interface TempDir extends AsyncDisposable {
  /** The temporary directory; `recv` inside it is the receiver's --dir. */
  path: string;
  /** The receiver's directory. */
  recv: string;
}

async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "file_transfer_test_" });
  const recv = `${path}/recv`;
  await Deno.mkdir(recv);
  return {
    path,
    recv,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  }
  return bytes;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
}

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}

async function assertFileHolds(path: string, expected: Uint8Array): Promise<void> {
  const actual = await Deno.readFile(path);
  assert.equal(actual.length, expected.length, `${path}: size`);
  const diff = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.equal(diff, -1, `${path}: first differing byte at ${diff}`);
}

/** Results of finished connections, in order, for waiting on "the receiver is done". */
class ResultQueue {
  #items: ReceiveResult[] = [];
  #waiters: ((result: ReceiveResult) => void)[] = [];

  push(result: ReceiveResult): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(result);
    else this.#items.push(result);
  }

  async next(timeoutMs = 20_000): Promise<ReceiveResult> {
    const ready = this.#items.shift();
    if (ready) return ready;
    const { promise, resolve, reject } = Promise.withResolvers<ReceiveResult>();
    this.#waiters.push(resolve);
    const timer = setTimeout(() => {
      this.#waiters.splice(this.#waiters.indexOf(resolve), 1);
      reject(new Error(`No transfer finished within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
    }
  }
}

interface Receiver extends AsyncDisposable {
  server: TcpServer;
  port: number;
  receiver: FileReceiver;
  results: ResultQueue;
  /** Resolves the next time data arrives on any transfer. */
  nextData(): Promise<void>;
}

function startReceiver(
  options: FileReceiverOptions,
  tls?: { cert: string; key: string },
  idleTimeout = 0,
): Receiver {
  const receiver = new FileReceiver(options);
  const results = new ResultQueue();
  let dataWaiters: (() => void)[] = [];
  const server = serveTcp(async (conn, ctx) => {
    const result = await receiver.receive(conn, {
      signal: ctx.signal,
      touch: () => {
        const waiters = dataWaiters;
        dataWaiters = [];
        for (const wake of waiters) wake();
      },
    });
    results.push(result);
  }, { port: 0, logger: QUIET, tls, idleTimeout });
  return {
    server,
    port: server.addr.port,
    receiver,
    results,
    nextData: () => new Promise((resolve) => dataWaiters.push(resolve)),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

interface RawSendOptions {
  name: string;
  data: Uint8Array;
  /** Start at this offset instead of the one offered. */
  start?: number;
  /** Send file bytes up to here, then close the connection abruptly. */
  cutAt?: number;
  /** The trailer to send instead of the true SHA-256. */
  digest?: Uint8Array;
}

/** Speaks the protocol by hand, to do what the real sender never does. */
async function rawSend(
  port: number,
  options: RawSendOptions,
): Promise<{ offer?: ResumeMessage; verdict?: VerdictMessage }> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new BufferedReader(conn);
  const { name, data } = options;
  await writeAll(conn, encodeMessage({ type: "file", version: 1, name, size: data.length }));
  const reply = decodeMessage((await reader.readFrame())!, ["resume", "verdict"]);
  if (reply.type === "verdict") return { verdict: reply };
  const start = options.start ?? reply.offset;
  await writeAll(conn, encodeMessage({ type: "start", offset: start }));
  await writeAll(conn, data.subarray(start, options.cutAt ?? data.length));
  if (options.cutAt !== undefined) return { offer: reply };
  await writeAll(conn, options.digest ?? await sha256(data));
  const verdict = decodeMessage((await reader.readFrame())!, ["verdict"]);
  return { offer: reply, verdict };
}

function connectTo(port: number) {
  return () => connectTcp({ hostname: "127.0.0.1", port });
}

/**
 * A TCP proxy that can break the sender → receiver direction: close both
 * sides once `cutAt[i]` bytes of connection `i` went through, or flip one
 * bit at stream offset `flipAt`.
 */
function startProxy(
  targetPort: number,
  options: { cutAt?: number[]; flipAt?: number },
): { port: number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let index = 0;
  const pump = async (
    from: Deno.Conn,
    to: Deno.Conn,
    cut: number,
    flipAt: number | undefined,
    onCut: () => void,
  ) => {
    const buffer = new Uint8Array(65_536);
    let total = 0;
    try {
      for (let n; (n = await from.read(buffer)) !== null;) {
        const piece = buffer.subarray(0, Math.min(n, cut - total));
        if (flipAt !== undefined && flipAt >= total && flipAt < total + piece.length) {
          piece[flipAt - total]! ^= 0x01;
        }
        await writeAll(to, piece);
        total += piece.length;
        if (total >= cut) return onCut();
      }
      await to.closeWrite();
    } catch {
      onCut();
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      const cut = options.cutAt?.[index++] ?? Infinity;
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      open.add(client);
      open.add(upstream);
      const closeBoth = () => {
        closeQuietly(client);
        closeQuietly(upstream);
      };
      const task = Promise.all([
        pump(client, upstream, cut, options.flipAt, closeBoth),
        pump(upstream, client, Infinity, undefined, closeBoth),
      ]).then(closeBoth);
      tasks.add(task);
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      closeQuietly(listener);
      await accepting.catch(() => {});
      for (const conn of open) closeQuietly(conn);
      await Promise.all(tasks);
    },
  };
}

/** A seeded generator, so a failing run of the random-offset test can be replayed. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ tests

Deno.test("files of 0 B, 1 B and 1 MiB arrive byte-identical and the sender gets the same SHA-256", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  for (const size of [0, 1, MiB]) {
    const data = randomBytes(size);
    const source = `${dir.path}/file-${size}.bin`;
    await Deno.writeFile(source, data);
    const result = await sendFile(connectTo(rx.port), source);
    const saved = await rx.results.next();
    assert.equal(saved.status, "saved", saved.reason);
    assert.equal(result.size, size);
    assert.equal(result.offset, 0);
    assert.equal(
      result.sha256,
      Array.from(await sha256(data), (b) => b.toString(16).padStart(2, "0")).join(""),
    );
    assert.equal(saved.sha256, result.sha256);
    await assertFileHolds(`${dir.recv}/file-${size}.bin`, data);
  }
  assert.deepEqual(await listDir(dir.recv), ["file-0.bin", "file-1.bin", "file-1048576.bin"]);
});

Deno.test("a stream whose bytes do not match its SHA-256 is rejected and leaves no file", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  const data = randomBytes(100_000);
  const wrong = await sha256(data);
  wrong[0]! ^= 0xff;
  const { verdict } = await rawSend(rx.port, { name: "x.bin", data, digest: wrong });
  assert.equal(verdict?.ok, false);
  assert.match(verdict?.error ?? "", /SHA-256 mismatch/);
  assert.equal((await rx.results.next()).status, "rejected");
  assert.deepEqual(await listDir(dir.recv), []);
});

Deno.test("a bit flipped in transit makes the real sender fail with the receiver's reason and leaves no file", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  // Past the two control frames at the start of the stream, inside the data.
  await using proxy = startProxy(rx.port, { flipAt: 300_000 });
  const data = randomBytes(MiB);
  await Deno.writeFile(`${dir.path}/x.bin`, data);
  await assert.rejects(
    sendFile(connectTo(proxy.port), `${dir.path}/x.bin`, { retries: 2 }),
    (error: unknown) =>
      error instanceof FileTransferError && !error.retry && /SHA-256 mismatch/.test(error.message),
  );
  assert.equal((await rx.results.next()).status, "rejected");
  assert.deepEqual(await listDir(dir.recv), []);
});

Deno.test("hostile names are refused before any data and nothing is written in or outside the directory", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  const data = randomBytes(10);
  for (const name of ["../x", "/etc/x", "a/b", "..", ".hidden", "..\\x", "x\n", ""]) {
    const { offer, verdict } = await rawSend(rx.port, { name, data });
    assert.equal(offer, undefined, name);
    assert.equal(verdict?.ok, false, name);
    assert.match(verdict?.error ?? "", /^cannot accept file name/, name);
    const result = await rx.results.next();
    assert.equal(result.status, "refused", name);
  }
  await Deno.writeFile(`${dir.path}/ok.bin`, data);
  await assert.rejects(
    sendFile(connectTo(rx.port), `${dir.path}/ok.bin`, { name: "../escape" }),
    /path separator/,
  );
  await rx.results.next();
  assert.deepEqual(await listDir(dir.recv), []);
  assert.deepEqual(await listDir(dir.path), ["ok.bin", "recv"]);
});

Deno.test("a file over maxSize is refused from its header, and an existing file is kept unless overwrite is on", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/x.bin`;
  await Deno.writeFile(source, randomBytes(1001));
  {
    await using rx = startReceiver({ dir: dir.recv, maxSize: 1000 });
    await assert.rejects(
      sendFile(connectTo(rx.port), source),
      /exceeds the receiver's max-size of 1000/,
    );
    assert.equal((await rx.results.next()).status, "refused");
    assert.deepEqual(await listDir(dir.recv), []);
  }
  const first = randomBytes(5000);
  const second = randomBytes(7000);
  {
    await using rx = startReceiver({ dir: dir.recv });
    await Deno.writeFile(source, first);
    await sendFile(connectTo(rx.port), source);
    await rx.results.next();
    await Deno.writeFile(source, second);
    await assert.rejects(sendFile(connectTo(rx.port), source), /already exists/);
    await rx.results.next();
    await assertFileHolds(`${dir.recv}/x.bin`, first);
  }
  {
    await using rx = startReceiver({ dir: dir.recv, overwrite: true });
    await sendFile(connectTo(rx.port), source);
    assert.equal((await rx.results.next()).status, "saved");
    await assertFileHolds(`${dir.recv}/x.bin`, second);
    assert.deepEqual(await listDir(dir.recv), ["x.bin"]);
  }
});

Deno.test("a transfer interrupted at random offsets resumes each time and the file arrives identical", async () => {
  const seed = Date.now() >>> 0;
  const random = mulberry32(seed);
  const context = `seed ${seed}`;
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  const size = 3 * MiB + 12_345;
  const data = randomBytes(size);
  const cuts = [random(), random(), random()].map((r) => 1 + Math.floor(r * (size - 1)))
    .sort((a, b) => a - b);

  let have = 0;
  for (const cut of cuts) {
    const { offer } = await rawSend(rx.port, { name: "big.bin", data, cutAt: cut });
    assert.equal(offer?.offset, have, context);
    const result = await rx.results.next();
    assert.equal(result.status, "interrupted", context);
    assert.equal(result.received, cut - have, context);
    have = cut;
    // Nothing under the real name: only the hidden part, holding exactly what arrived.
    assert.deepEqual(await listDir(dir.recv), [".big.bin.part"], context);
    await assertFileHolds(`${dir.recv}/.big.bin.part`, data.subarray(0, cut));
  }

  await Deno.writeFile(`${dir.path}/big.bin`, data);
  const starts: number[] = [];
  const result = await sendFile(connectTo(rx.port), `${dir.path}/big.bin`, {
    onStart: (offset) => starts.push(offset),
  });
  assert.deepEqual(starts, [have], context);
  assert.equal(result.sent, size - have, context);
  assert.equal((await rx.results.next()).status, "saved", context);
  await assertFileHolds(`${dir.recv}/big.bin`, data);
  assert.deepEqual(await listDir(dir.recv), ["big.bin"], context);
});

Deno.test("the sender reconnects after the connection is cut mid-transfer and resumes where the receiver stopped", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  // The first two connections are cut after these many bytes; the third passes.
  await using proxy = startProxy(rx.port, { cutAt: [700_000, 1_900_000] });
  const data = randomBytes(3 * MiB);
  await Deno.writeFile(`${dir.path}/x.bin`, data);
  const starts: number[] = [];
  const result = await sendFile(connectTo(proxy.port), `${dir.path}/x.bin`, {
    retries: 5,
    retryDelay: 10,
    onStart: (offset) => starts.push(offset),
  });
  await assertFileHolds(`${dir.recv}/x.bin`, data);
  assert.equal(starts[0], 0);
  assert.ok(starts.length >= 3, `starts: ${starts}`);
  assert.ok(starts.at(-1)! > 0, `the last attempt resumed: ${starts}`);
  assert.ok(result.sent < 2 * data.length, `sent ${result.sent}: resumed rather than restarted`);
  assert.deepEqual(await listDir(dir.recv), ["x.bin"]);
});

Deno.test("a part left by a different file with the same name is discarded and the transfer starts over", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  const old = randomBytes(200_000);
  await rawSend(rx.port, { name: "x.bin", data: old, cutAt: 100_000 });
  await rx.results.next();
  const fresh = randomBytes(200_000);
  await Deno.writeFile(`${dir.path}/x.bin`, fresh);
  const result = await sendFile(connectTo(rx.port), `${dir.path}/x.bin`);
  assert.equal(result.offset, 0);
  assert.equal(result.sent, fresh.length);
  await rx.results.next();
  await assertFileHolds(`${dir.recv}/x.bin`, fresh);
});

Deno.test("two senders are served at the same time, and a second sender of the same name is told to retry", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  const a = randomBytes(2 * MiB);
  const b = randomBytes(2 * MiB + 1);
  await Deno.writeFile(`${dir.path}/a.bin`, a);
  await Deno.writeFile(`${dir.path}/b.bin`, b);

  // A transfer held open half way proves the others do not wait for it.
  using held = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  const heldData = randomBytes(1000);
  const reader = new BufferedReader(held);
  await writeAll(held, encodeMessage({ type: "file", version: 1, name: "held.bin", size: 1000 }));
  decodeMessage((await reader.readFrame())!, ["resume"]);
  await writeAll(held, encodeMessage({ type: "start", offset: 0 }));
  const arrived = rx.nextData();
  await writeAll(held, heldData.subarray(0, 500));
  await arrived;

  const [ra, rb] = await Promise.all([
    sendFile(connectTo(rx.port), `${dir.path}/a.bin`),
    sendFile(connectTo(rx.port), `${dir.path}/b.bin`),
  ]);
  assert.equal(ra.size, a.length);
  assert.equal(rb.size, b.length);
  await assertFileHolds(`${dir.recv}/a.bin`, a);
  await assertFileHolds(`${dir.recv}/b.bin`, b);
  // The verdict goes out before the receiver lets go of the name: wait for
  // both handlers to finish before looking at what is still active.
  const statuses = [(await rx.results.next()).status, (await rx.results.next()).status];
  assert.deepEqual(rx.receiver.active, new Set(["held.bin"]));

  const { verdict } = await rawSend(rx.port, { name: "held.bin", data: heldData });
  assert.equal(verdict?.ok, false);
  assert.equal(verdict?.retry, true);
  assert.match(verdict?.error ?? "", /being received from another sender/);

  await writeAll(held, heldData.subarray(500));
  await writeAll(held, await sha256(heldData));
  const final = decodeMessage((await reader.readFrame())!, ["verdict"]);
  assert.equal(final.ok, true);
  await assertFileHolds(`${dir.recv}/held.bin`, heldData);
  for (let i = 0; i < 2; i++) statuses.push((await rx.results.next()).status);
  assert.deepEqual(statuses.sort(), ["refused", "saved", "saved", "saved"]);
});

Deno.test("a receiver shutting down mid-transfer tells the sender to retry later and keeps the part", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  const reader = new BufferedReader(conn);
  await writeAll(conn, encodeMessage({ type: "file", version: 1, name: "x.bin", size: 10_000 }));
  decodeMessage((await reader.readFrame())!, ["resume"]);
  await writeAll(conn, encodeMessage({ type: "start", offset: 0 }));
  const arrived = rx.nextData();
  await writeAll(conn, new Uint8Array(4000).fill(7));
  await arrived;
  const stopping = rx.server.shutdown();
  const verdict = decodeMessage((await reader.readFrame())!, ["verdict"]);
  assert.deepEqual(
    [verdict.ok, verdict.retry],
    [false, true],
  );
  assert.match(verdict.error ?? "", /shutting down/);
  await stopping;
  const result = await rx.results.next();
  assert.equal(result.status, "interrupted");
  assert.deepEqual(await listDir(dir.recv), [".x.bin.part"]);
  assert.equal((await Deno.stat(`${dir.recv}/.x.bin.part`)).size, result.received);
});

Deno.test("a file goes over TLS to a receiver with the test certificate", async () => {
  await using dir = await tempDir();
  const tls = {
    cert: await Deno.readTextFile(new URL("localhost.crt", FIXTURES)),
    key: await Deno.readTextFile(new URL("localhost.key", FIXTURES)),
  };
  const ca = await Deno.readTextFile(new URL("ca.crt", FIXTURES));
  await using rx = startReceiver({ dir: dir.recv }, tls);
  const data = randomBytes(MiB + 7);
  await Deno.writeFile(`${dir.path}/tls.bin`, data);
  const result = await sendFile(
    () => connectTcp({ hostname: "127.0.0.1", port: rx.port, tls: true, caCerts: [ca] }),
    `${dir.path}/tls.bin`,
  );
  assert.equal(result.size, data.length);
  assert.equal((await rx.results.next()).status, "saved");
  await assertFileHolds(`${dir.recv}/tls.bin`, data);
});

Deno.test("malformed headers are refused with a reason the sender can read", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  const cases: [Uint8Array, RegExp][] = [
    [encodeLengthPrefixed(new TextEncoder().encode("not json")), /not UTF-8 JSON/],
    [
      encodeLengthPrefixed(new TextEncoder().encode('{"type":"start","offset":0}')),
      /expected type file/,
    ],
    [encodeLengthPrefixed(new TextEncoder().encode('{"type":"file","version":9}')), /version 9/],
    // A length prefix of 1 MiB: refused from the 4 bytes alone, nothing allocated.
    [new Uint8Array([0, 0x10, 0, 0]), /length 1048576 exceeds the limit of 16384/],
  ];
  for (const [bytes, reason] of cases) {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
    await writeAll(conn, bytes);
    const verdict = decodeMessage((await new BufferedReader(conn).readFrame())!, ["verdict"]);
    assert.equal(verdict.ok, false);
    assert.match(verdict.error ?? "", reason);
    assert.equal((await rx.results.next()).status, "refused");
  }
  assert.deepEqual(await listDir(dir.recv), []);
});

Deno.test("a file that appears under the same name during the transfer is not overwritten", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  const reader = new BufferedReader(conn);
  const data = randomBytes(5000);
  await writeAll(conn, encodeMessage({ type: "file", version: 1, name: "x.bin", size: 5000 }));
  decodeMessage((await reader.readFrame())!, ["resume"]);
  // Another program writes x.bin after the receiver checked the name.
  await Deno.writeTextFile(`${dir.recv}/x.bin`, "someone else's");
  await writeAll(conn, encodeMessage({ type: "start", offset: 0 }));
  await writeAll(conn, data);
  await writeAll(conn, await sha256(data));
  const verdict = decodeMessage((await reader.readFrame())!, ["verdict"]);
  assert.equal(verdict.ok, false);
  assert.match(verdict.error ?? "", /appeared on the receiver during the transfer/);
  assert.equal((await rx.results.next()).status, "rejected");
  assert.equal(await Deno.readTextFile(`${dir.recv}/x.bin`), "someone else's");
  assert.deepEqual(await listDir(dir.recv), ["x.bin"]);
});

Deno.test("a sender that goes silent is dropped after the idle timeout and its part is kept for resuming", async () => {
  await using dir = await tempDir();
  await using rx = startReceiver({ dir: dir.recv }, undefined, 200);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  const reader = new BufferedReader(conn);
  await writeAll(conn, encodeMessage({ type: "file", version: 1, name: "x.bin", size: 5000 }));
  decodeMessage((await reader.readFrame())!, ["resume"]);
  await writeAll(conn, encodeMessage({ type: "start", offset: 0 }));
  await writeAll(conn, randomBytes(3000));
  // Then silence: the receiver closes the connection, which we see as the end of the stream.
  const closed = await reader.readSome(1).catch(() => null);
  assert.equal(closed, null);
  const result = await rx.results.next();
  assert.equal(result.status, "interrupted");
  assert.equal(result.received, 3000);
  assert.deepEqual(await listDir(dir.recv), [".x.bin.part"]);
});
