/**
 * Who may send, and what a sender hears from the wrong peer, over real
 * sockets on 127.0.0.1: the shared secret's challenge-response (issue 16),
 * the framed `busy` verdict and the sender's retries (issue 10 §2), and the
 * messages for a peer that does not speak the protocol (newcomer trial B11).
 */

import assert from "node:assert/strict";
import { BufferedReader } from "../../lib/io/buffered_reader.ts";
import { ConnectError, connectTcp } from "../../lib/tcp/connect_tcp.ts";
import {
  FileReceiver,
  type FileReceiverOptions,
  type ReceiveResult,
} from "../../lib/file_transfer/file_receiver.ts";
import { sendFile } from "../../lib/file_transfer/file_sender.ts";
import {
  decodeMessage,
  encodeBusyVerdict,
  encodeMessage,
  FileTransferError,
} from "../../lib/file_transfer/file_transfer_protocol.ts";
import { FailureThrottle } from "../../lib/file_transfer/failure_throttle.ts";
import { importSecret } from "../../lib/file_transfer/transfer_auth.ts";
import { Logger } from "../../lib/cli/log.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { serveTcp, type ServeTcpOptions } from "../../lib/tcp/serve_tcp.ts";
import { writeAll } from "../../lib/io/write_all.ts";

const QUIET = new Logger({ level: "error", write: () => {} });
const SECRET = "correct horse battery staple";
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- helpers

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  }
  return bytes;
}

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}

async function assertFileHolds(path: string, expected: Uint8Array): Promise<void> {
  const actual = await Deno.readFile(path);
  assert.equal(actual.length, expected.length, `${path}: size`);
  assert.ok(actual.every((byte, i) => byte === expected[i]), `${path}: content differs`);
}

/** Index of `needle` in `haystack`, or -1. */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

interface Setup extends AsyncDisposable {
  /** The temporary directory; `recv` inside it is the receiver's directory. */
  path: string;
  recv: string;
  port: number;
  /** Resolves with the result of the next transfer to finish. */
  nextResult(): Promise<ReceiveResult>;
}

/** A temporary directory and a receiver on port 0 saving into `recv` inside it. */
async function setup(
  options: Omit<FileReceiverOptions, "dir"> = {},
  serveOptions: ServeTcpOptions = {},
): Promise<Setup> {
  const path = await Deno.makeTempDir({ prefix: "file_transfer_auth_" });
  const recv = `${path}/recv`;
  await Deno.mkdir(recv);
  const receiver = new FileReceiver({ dir: recv, ...options });
  const results: ReceiveResult[] = [];
  const waiters: ((result: ReceiveResult) => void)[] = [];
  const server = serveTcp(async (conn, ctx) => {
    const result = await receiver.receive(conn, { signal: ctx.signal });
    const waiter = waiters.shift();
    if (waiter) waiter(result);
    else results.push(result);
  }, { port: 0, logger: QUIET, ...serveOptions });
  return {
    path,
    recv,
    port: server.addr.port,
    nextResult: () => {
      const ready = results.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(path, { recursive: true });
    },
  };
}

function connectTo(port: number) {
  return () => connectTcp({ hostname: "127.0.0.1", port });
}

/** One connection's bytes in each direction, as a relay saw them. */
interface Recording {
  fromClient: Uint8Array[];
  fromServer: Uint8Array[];
}

/**
 * A TCP relay to `targetPort` that records every byte in both directions;
 * with `cutFirstAt`, it closes the first connection once that many bytes
 * went from the client to the server.
 */
function startRecordingRelay(
  targetPort: number,
  cutFirstAt = Infinity,
): { port: number; recordings: Recording[] } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const recordings: Recording[] = [];
  const open = new Set<Deno.Conn>();
  const tasks: Promise<unknown>[] = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn, into: Uint8Array[], cut: number) => {
    const buffer = new Uint8Array(65_536);
    let total = 0;
    try {
      for (let n; (n = await from.read(buffer)) !== null;) {
        const piece = buffer.slice(0, Math.min(n, cut - total));
        into.push(piece);
        await writeAll(to, piece);
        total += piece.length;
        if (total >= cut) break;
      }
    } catch {
      // The other direction closed both.
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      open.add(client);
      open.add(upstream);
      const recording: Recording = { fromClient: [], fromServer: [] };
      const cut = recordings.length === 0 ? cutFirstAt : Infinity;
      recordings.push(recording);
      const closeBoth = () => {
        closeQuietly(client);
        closeQuietly(upstream);
      };
      tasks.push(
        Promise.race([
          pump(client, upstream, recording.fromClient, cut),
          pump(upstream, client, recording.fromServer, Infinity),
        ]).then(closeBoth),
      );
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    recordings,
    async [Symbol.asyncDispose]() {
      closeQuietly(listener);
      await accepting.catch(() => {});
      for (const conn of open) closeQuietly(conn);
      await Promise.all(tasks);
    },
  };
}

/** Reads frames until the connection ends; returns the decoded verdict among them. */
async function readUntilVerdict(conn: Deno.Conn) {
  const reader = new BufferedReader(conn);
  const types: string[] = [];
  for (let payload; (payload = await reader.readFrame()) !== null;) {
    const message = decodeMessage(payload, ["challenge", "resume", "verdict"]);
    types.push(message.type);
    if (message.type === "verdict") return { verdict: message, types };
  }
  return { verdict: undefined, types };
}

// ------------------------------------------------------------------ tests

Deno.test("a sender with the receiver's secret saves the file and is told it was checked", async () => {
  const key = await importSecret(SECRET);
  await using rx = await setup({ secret: key });
  const data = randomBytes(100_000);
  await Deno.writeFile(`${rx.path}/a.bin`, data);
  const result = await sendFile(connectTo(rx.port), `${rx.path}/a.bin`, { secret: key });
  assert.equal(result.authenticated, true);
  assert.equal((await rx.nextResult()).status, "saved");
  await assertFileHolds(`${rx.recv}/a.bin`, data);
});

Deno.test("a sender with a secret still sends to a receiver without one, and is told nobody checked", async () => {
  await using rx = await setup();
  await Deno.writeFile(`${rx.path}/a.bin`, randomBytes(10));
  const result = await sendFile(connectTo(rx.port), `${rx.path}/a.bin`, {
    secret: await importSecret(SECRET),
  });
  assert.equal(result.authenticated, false);
  assert.equal((await rx.nextResult()).status, "saved");
});

Deno.test("a sender without the secret or with a wrong one is refused and nothing is written, not even a .part", async () => {
  await using rx = await setup({
    secret: await importSecret(SECRET),
    throttle: new FailureThrottle({ baseDelay: 1 }),
  });
  await Deno.writeFile(`${rx.path}/a.bin`, randomBytes(50_000));
  await assert.rejects(
    sendFile(connectTo(rx.port), `${rx.path}/a.bin`),
    (error: unknown) =>
      error instanceof FileTransferError && !error.retry &&
      error.message === "the receiver refused the file: this receiver needs --secret",
  );
  assert.equal((await rx.nextResult()).reason, "this receiver needs --secret");
  await assert.rejects(
    sendFile(connectTo(rx.port), `${rx.path}/a.bin`, { secret: await importSecret("guess") }),
    (error: unknown) =>
      error instanceof FileTransferError &&
      error.message === "the receiver refused the file: wrong secret",
  );
  assert.equal((await rx.nextResult()).status, "refused");
  assert.deepEqual(await listDir(rx.recv), []);
});

Deno.test("the secret's bytes never cross the wire, and a replayed recording of a good exchange is refused", async () => {
  const key = await importSecret(SECRET);
  await using rx = await setup({ secret: key, throttle: new FailureThrottle({ baseDelay: 1 }) });
  const data = randomBytes(200_000);
  await Deno.writeFile(`${rx.path}/a.bin`, data);
  {
    await using relay = startRecordingRelay(rx.port);
    await sendFile(connectTo(relay.port), `${rx.path}/a.bin`, { secret: key });
    assert.equal((await rx.nextResult()).status, "saved");
    await relay[Symbol.asyncDispose]();
    const [recording] = relay.recordings;
    assert.ok(recording);
    const wire = concat([...recording.fromClient, ...recording.fromServer]);
    assert.ok(wire.length > data.length, "the relay saw the whole transfer");
    const secretBytes = new TextEncoder().encode(SECRET);
    const secretHex = new TextEncoder().encode(
      Array.from(secretBytes, (b) => b.toString(16).padStart(2, "0")).join(""),
    );
    assert.equal(indexOfBytes(wire, secretBytes), -1, "the secret appears on the wire");
    assert.equal(indexOfBytes(wire, secretHex), -1, "the secret's hex appears on the wire");
    assert.equal(indexOfBytes(wire, secretBytes.subarray(0, 8)), -1, "part of the secret appears");

    // Replay: the same bytes, header, proof, data and checksum, on a new connection.
    await Deno.remove(`${rx.recv}/a.bin`);
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
    const replayed = writeAll(conn, concat(recording.fromClient)).catch(() => {});
    const { verdict, types } = await readUntilVerdict(conn);
    await replayed;
    assert.deepEqual(types, ["challenge", "verdict"]);
    assert.equal(verdict?.ok, false);
    assert.equal(verdict?.error, "wrong secret");
  }
  assert.equal((await rx.nextResult()).reason, "wrong secret");
  assert.deepEqual(await listDir(rx.recv), []);
});

Deno.test("a malformed or oversized answer to the challenge is refused like a wrong secret", async () => {
  await using rx = await setup({
    secret: await importSecret(SECRET),
    throttle: new FailureThrottle({ baseDelay: 1 }),
  });
  const answers: [Uint8Array, RegExp][] = [
    [encodeMessage({ type: "start", offset: 0 }), /expected type auth/],
    [new Uint8Array([0, 0x10, 0, 0]), /length 1048576 exceeds the limit of 16384/],
  ];
  for (const [answer, reason] of answers) {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
    await writeAll(conn, encodeMessage({ type: "file", version: 1, name: "a.bin", size: 1 }));
    const reader = new BufferedReader(conn);
    decodeMessage((await reader.readFrame())!, ["challenge"]);
    await writeAll(conn, answer);
    const verdict = decodeMessage((await reader.readFrame())!, ["verdict"]);
    assert.equal(verdict.ok, false);
    assert.match(verdict.error ?? "", reason);
    assert.equal((await rx.nextResult()).status, "refused");
  }
  assert.deepEqual(await listDir(rx.recv), []);
});

Deno.test("a transfer cut mid-way resumes with the secret on the next connection", async () => {
  const key = await importSecret(SECRET);
  await using rx = await setup({ secret: key });
  const data = randomBytes(2 * MiB);
  await Deno.writeFile(`${rx.path}/big.bin`, data);
  await using relay = startRecordingRelay(rx.port, MiB);
  const result = await sendFile(connectTo(relay.port), `${rx.path}/big.bin`, {
    secret: key,
    // A retry may find the first connection still being wound up ("try again later").
    retries: 5,
    retryDelay: 1,
  });
  assert.ok(result.attempts >= 2);
  assert.equal(result.authenticated, true);
  assert.ok(result.offset > 0, `resumed at ${result.offset}`);
  assert.equal((await rx.nextResult()).status, "interrupted");
  for (let status; (status = (await rx.nextResult()).status) !== "saved";) {
    assert.equal(status, "refused");
  }
  await assertFileHolds(`${rx.recv}/big.bin`, data);
});

Deno.test("repeated wrong secrets from one address wait longer each time before the verdict", async () => {
  // Lower bounds only: a slow machine makes each wait longer, never shorter.
  await using rx = await setup({
    secret: await importSecret(SECRET),
    throttle: new FailureThrottle({ baseDelay: 150, maxDelay: 1_000 }),
  });
  await Deno.writeFile(`${rx.path}/a.bin`, randomBytes(10));
  const wrong = await importSecret("guess");
  for (const atLeast of [150, 300]) {
    const started = performance.now();
    await assert.rejects(
      sendFile(connectTo(rx.port), `${rx.path}/a.bin`, { secret: wrong }),
      /wrong secret/,
    );
    const took = performance.now() - started;
    assert.ok(took >= atLeast - 5, `verdict after ${took.toFixed(0)} ms, expected >= ${atLeast}`);
    await rx.nextResult();
  }
});

Deno.test("a full receiver answers a framed busy verdict, and the sender waits and retries", async () => {
  await using rx = await setup({}, { maxConnections: 1, busyMessage: encodeBusyVerdict(1) });
  const data = randomBytes(10_000);
  await Deno.writeFile(`${rx.path}/a.bin`, data);
  // One sender that holds the only slot: header sent, waiting on the offer.
  const held = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  await writeAll(held, encodeMessage({ type: "file", version: 1, name: "held.bin", size: 5 }));
  decodeMessage((await new BufferedReader(held).readFrame())!, ["resume"]);

  const retries: string[] = [];
  const result = await sendFile(connectTo(rx.port), `${rx.path}/a.bin`, {
    retries: 3,
    retryDelay: 1,
    onRetry: (error) => {
      retries.push((error as Error).message);
      // Free the slot: the next attempt gets in.
      closeQuietly(held);
    },
  });
  // Freeing the slot takes the receiver a moment: a retry may still find it busy.
  assert.ok(retries.length >= 1);
  assert.ok(retries.every((message) => message === "the receiver is busy (1 sender at once)"));
  assert.equal(result.attempts, retries.length + 1);
  await assertFileHolds(`${rx.recv}/a.bin`, data);
});

Deno.test("a raw connection to a full receiver reads the busy verdict as a frame", async () => {
  await using rx = await setup({}, { maxConnections: 1, busyMessage: encodeBusyVerdict(1) });
  using held = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  await writeAll(held, encodeMessage({ type: "file", version: 1, name: "held.bin", size: 5 }));
  decodeMessage((await new BufferedReader(held).readFrame())!, ["resume"]);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  const verdict = decodeMessage((await new BufferedReader(conn).readFrame())!, ["verdict"]);
  assert.deepEqual(
    [verdict.ok, verdict.busy, verdict.retry, verdict.error],
    [false, true, true, "the receiver is busy (1 sender at once)"],
  );
});

Deno.test("the sender names a peer that echoes or answers in text instead of speaking the protocol", async () => {
  const dir = await Deno.makeTempDir({ prefix: "file_transfer_auth_" });
  await using echo = serveTcp(async (conn) => {
    const buffer = new Uint8Array(65_536);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      await writeAll(conn, buffer.subarray(0, n));
    }
  }, { port: 0, logger: QUIET });
  await using chat = serveTcp(async (conn) => {
    await writeAll(conn, new TextEncoder().encode("*** Welcome to the chat. Pick a nick\r\n"));
    await conn.read(new Uint8Array(1024));
  }, { port: 0, logger: QUIET });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, "{}\n");
    await assert.rejects(
      sendFile(connectTo(echo.addr.port), `${dir}/deno.json`, { retries: 3 }),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message ===
          `Cannot send deno.json: 127.0.0.1:${echo.addr.port} does not speak the file-transfer protocol (it echoed our header: an echo server?)`,
    );
    await assert.rejects(
      sendFile(connectTo(chat.addr.port), `${dir}/deno.json`, { retries: 3 }),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message ===
          `Cannot send deno.json: 127.0.0.1:${chat.addr.port} does not speak the file-transfer protocol (it answered in text: "*** Welcome to the chat. Pick a nick")`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a receiver's reason reaches the sender's terminal without control characters", async () => {
  await using hostile = serveTcp(async (conn) => {
    await new BufferedReader(conn).readFrame();
    await writeAll(
      conn,
      encodeMessage({ type: "verdict", ok: false, error: "\x1b[2J\x1b[31mred\x07" }),
    );
  }, { port: 0, logger: QUIET });
  const dir = await Deno.makeTempDir({ prefix: "file_transfer_auth_" });
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "hello\n");
    await assert.rejects(
      sendFile(connectTo(hostile.addr.port), `${dir}/a.txt`),
      (error: unknown) =>
        error instanceof FileTransferError &&
        error.message === "the receiver refused the file: ?[2J?[31mred?",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a client pushing plain text gets a plain-text hint, not a binary verdict", async () => {
  await using rx = await setup();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: rx.port });
  await writeAll(conn, new TextEncoder().encode('{\n  "tasks": {}\n}\n'));
  await conn.closeWrite();
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  for (let n; (n = await conn.read(buffer)) !== null;) chunks.push(buffer.slice(0, n));
  const text = new TextDecoder().decode(concat(chunks));
  assert.match(text, /^error: this port speaks the file-transfer protocol of file_send\.ts/);
  assert.ok(text.endsWith("\n"));
  assert.equal((await rx.nextResult()).status, "refused");
  assert.deepEqual(await listDir(rx.recv), []);
});

Deno.test("a refused first connection fails at once without retrying", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const dir = await Deno.makeTempDir({ prefix: "file_transfer_auth_" });
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "hello\n");
    let retried = 0;
    await assert.rejects(
      sendFile(connectTo(port), `${dir}/a.txt`, { retries: 3, onRetry: () => retried++ }),
      (error: unknown) => error instanceof ConnectError && error.code === "refused",
    );
    assert.equal(retried, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FailureThrottle doubles the delay per address and forgets the least recent address when full", () => {
  const throttle = new FailureThrottle({ baseDelay: 10, maxDelay: 50, maxEntries: 3 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => throttle.fail("a", 0)), [10, 20, 40, 50, 50]);
  for (const address of ["b", "c", "d", "e"]) throttle.fail(address, 0);
  assert.equal(throttle.size, 3);
  // "a" was dropped to make room: it starts afresh.
  assert.equal(throttle.fail("a", 0), 10);
  // An address quiet for longer than forgetAfter starts afresh too.
  assert.equal(throttle.fail("e", 0), 20);
  assert.equal(throttle.fail("e", 10 * 60_000 + 1), 10);
});
