/**
 * scripts/file_send.ts and scripts/file_receive.ts end to end: spawned with
 * the exact, narrow permissions their headers document.
 */

import assert from "node:assert/strict";
import { readProcessUsage } from "../../lib/load/process_usage.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { runScript, type ScriptProcess, startScript } from "../helpers/script_process.ts";

const SEND = "file_send.ts";
const RECEIVE = "file_receive.ts";
const MiB = 1024 * 1024;
const decoder = new TextDecoder();

/**
 * The receiver's documented memory bound while taking a 200 MiB file: its
 * peak RSS (VmHWM) stays under 96 MiB. Idle it holds about 46 MiB (the
 * runtime); a receiver that buffered the file would need 200 MiB more.
 */
const RECEIVER_PEAK_RSS_LIMIT = 96 * MiB;

function receiveFlags(dir: string): string[] {
  return ["--allow-net=127.0.0.1", `--allow-read=${dir}`, `--allow-write=${dir}`];
}

function sendFlags(file: string): string[] {
  return ["--allow-net=127.0.0.1", `--allow-read=${file}`];
}

async function writeRandomFile(path: string, size: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(MiB);
  for (let written = 0; written < size;) {
    const n = Math.min(chunk.length, size - written);
    for (let at = 0; at < n; at += 65_536) crypto.getRandomValues(chunk.subarray(at, at + 65_536));
    let done = 0;
    while (done < n) done += await file.write(chunk.subarray(done, n));
    written += n;
  }
}

/** Compares two files 1 MiB at a time, without holding either. */
async function assertSameFile(actualPath: string, expectedPath: string): Promise<void> {
  using actual = await Deno.open(actualPath);
  using expected = await Deno.open(expectedPath);
  assert.equal((await actual.stat()).size, (await expected.stat()).size, "sizes differ");
  const a = new Uint8Array(MiB);
  const b = new Uint8Array(MiB);
  for (let offset = 0;;) {
    const n = await readFull(expected, b);
    const m = await readFull(actual, a.subarray(0, Math.max(n, 1)));
    assert.equal(m, n, `lengths differ after ${offset} bytes`);
    if (n === 0) return;
    const diff = firstDifference(a.subarray(0, n), b.subarray(0, n));
    assert.equal(diff, -1, `first differing byte at ${offset + diff}`);
    offset += n;
  }
}

/** The index of the first differing byte of two equal-length arrays, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  // Word by word: a callback per byte (findIndex) takes seconds on 200 MiB.
  const words = Math.floor(a.length / 4);
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let i = 0; i < words; i++) {
      if (wa[i] !== wb[i]) {
        return a.subarray(i * 4).findIndex((byte, j) => byte !== b[i * 4 + j]) + i * 4;
      }
    }
  }
  for (
    let i = a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 ? words * 4 : 0;
    i < a.length;
    i++
  ) {
    if (a[i] !== b[i]) return i;
  }
  return -1;
}

async function readFull(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < into.length) {
    const n = await file.read(into.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/**
 * A one-connection relay to `targetPort` that forwards the first `limit`
 * bytes from the client, then stops reading from it and calls `onLimit`;
 * afterwards it closes both sides.
 */
function relayUntil(
  targetPort: number,
  limit: number,
  onLimit: () => Promise<void>,
): { port: number; done: Promise<void> } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const done = (async () => {
    const client = await listener.accept();
    listener.close();
    conns.push(client);
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    conns.push(upstream);
    const back = (async () => {
      const buffer = new Uint8Array(65_536);
      try {
        for (let n; (n = await upstream.read(buffer)) !== null;) {
          await writeAll(client, buffer.subarray(0, n));
        }
      } catch { /* closed below */ }
    })();
    const buffer = new Uint8Array(65_536);
    for (let total = 0; total < limit;) {
      const n = await client.read(buffer.subarray(0, Math.min(buffer.length, limit - total)));
      assert.ok(n !== null, `the sender closed after ${total} bytes, before the cut`);
      await writeAll(upstream, buffer.subarray(0, n));
      total += n;
    }
    try {
      await onLimit();
    } finally {
      for (const conn of conns) closeQuietly(conn);
      await back;
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    done,
    async [Symbol.asyncDispose]() {
      closeQuietly(listener);
      for (const conn of conns) closeQuietly(conn);
      await done.catch(() => {});
    },
  };
}

/** The peak resident memory of a process so far (VmHWM), in bytes; Linux only. */
async function peakRss(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const kb = decoder.decode(stdout).match(/^VmHWM:\s+(\d+) kB/m)?.[1];
  assert.ok(kb !== undefined, "no VmHWM in /proc/PID/status");
  return Number(kb) * 1024;
}

Deno.test({
  name:
    "a 200 MiB file arrives identical with bounded receiver memory, and an interrupted send resumes",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
    try {
      const dir = `${base}/received`;
      const source = `${base}/big.bin`;
      await writeRandomFile(source, 200 * MiB);
      // The transfer lasts longer than the idle timeout: data must count as activity.
      const receiverArgs = ["--port", "0", "--dir", dir, "--idle-timeout", "0.5"];
      await using receiver = await startScript(RECEIVE, receiverArgs, {
        denoFlags: receiveFlags(dir),
      });
      const idle = await readProcessUsage(receiver.child.pid);

      const sent = await runScript(
        SEND,
        ["--port", String(receiver.port), source],
        { denoFlags: sendFlags(source) },
      );
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(
        decoder.decode(sent.stdout),
        /^sent big\.bin: 200\.0 MiB in [\d.]+ s \([\d.]+ MB\/s\), sha256 [0-9a-f]{64}, verified by the receiver\n$/,
      );
      assert.ok(!sent.stderr.includes("\r"), "no progress bar when stderr is not a terminal");
      await assertSameFile(`${dir}/big.bin`, source);
      const peak = await peakRss(receiver.child.pid);
      assert.ok(
        peak < RECEIVER_PEAK_RSS_LIMIT,
        `receiver peak RSS ${(peak / MiB).toFixed(1)} MiB (idle ${
          (idle.rssBytes / MiB).toFixed(1)
        } MiB) exceeds ${RECEIVER_PEAK_RSS_LIMIT / MiB} MiB`,
      );

      // Ctrl+C on the sender mid-stream: a relay passes the first 50 MiB,
      // then holds the rest back until the sender has been interrupted.
      const cutAt = 50 * MiB;
      const spawned = Promise.withResolvers<ScriptProcess>();
      await using relay = relayUntil(receiver.port, cutAt, async () => {
        const sender = await spawned.promise;
        const status = await sender.interrupt();
        assert.equal(status.code, 130, sender.stderr.join("\n"));
      });
      const sender = await startScript(
        SEND,
        ["--port", String(relay.port), "--name", "copy.bin", source],
        { denoFlags: sendFlags(source), waitForListening: false },
      );
      spawned.resolve(sender);
      try {
        await relay.done;
      } finally {
        await sender[Symbol.asyncDispose]();
      }
      assert.ok(sender.stderr.some((line) => /run the same command again to resume/.test(line)));
      await receiver.waitForLine(/copy\.bin interrupted at .*kept \.copy\.bin\.part/);
      const names = [];
      for await (const entry of Deno.readDir(dir)) names.push(entry.name);
      assert.deepEqual(names.sort(), [".copy.bin.part", "big.bin"]);

      const resumed = await runScript(
        SEND,
        ["--port", String(receiver.port), "--name", "copy.bin", source],
        { denoFlags: sendFlags(source) },
      );
      assert.equal(resumed.code, 0, resumed.stderr);
      // Everything the relay let through, less the two control frames, was kept.
      assert.match(decoder.decode(resumed.stdout), /resumed at 50\.0 MiB/);
      assert.match(resumed.stderr, /resuming at/);
      await assertSameFile(`${dir}/copy.bin`, source);

      const stopped = await receiver.interrupt();
      assert.equal(stopped.code, 0);
      assert.ok(receiver.stderr.some((line) => /shut down: saved 2 files/.test(line)));
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test("file_send.ts and file_receive.ts print --help with exit 0 and reject bad usage with exit 2", async () => {
  for (const script of [SEND, RECEIVE]) {
    const help = await runScript(script, ["--help"], { denoFlags: [] });
    assert.equal(help.code, 0);
    assert.match(decoder.decode(help.stdout), /Usage:\n {2}deno run --allow-net=127\.0\.0\.1/);
    const bad = await runScript(script, ["--port", "70000"], { denoFlags: [] });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid value for --port: 70000 is out of range/);
  }
  const none = await runScript(SEND, [], { denoFlags: [] });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give exactly one FILE/);
});

Deno.test("file_send.ts explains a missing file, missing permission and a receiver that is not running", async () => {
  const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
  try {
    const file = `${base}/small.txt`;
    await Deno.writeTextFile(file, "hello\n");
    const missing = await runScript(SEND, [`${base}/nope.txt`], {
      denoFlags: sendFlags(`${base}/nope.txt`),
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot send .*nope\.txt: no such file/);

    const denied = await runScript(SEND, [file], { denoFlags: ["--allow-net=127.0.0.1"] });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, new RegExp(`permission denied: run with --allow-read=${file}`));

    // A port that was free a moment ago: nothing listens there.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const refused = await runScript(SEND, ["--port", String(port), "--retries", "0", file], {
      denoFlags: sendFlags(file),
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`is the server running on 127\\.0\\.0\\.1:${port}\\?`));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("file_receive.ts serves TLS with the echo server's flags and file_send.ts --tls --ca sends to it", async () => {
  const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
  try {
    const dir = `${base}/received`;
    const file = `${base}/secret.bin`;
    await writeRandomFile(file, 3 * MiB + 3);
    await using receiver = await startScript(RECEIVE, [
      "--port",
      "0",
      "--dir",
      dir,
      "--tls-cert",
      "tests/fixtures/localhost.crt",
      "--tls-key",
      "tests/fixtures/localhost.key",
    ], {
      denoFlags: [
        "--allow-net=127.0.0.1",
        `--allow-read=${dir},tests/fixtures`,
        `--allow-write=${dir}`,
      ],
    });
    assert.ok(receiver.stdout[0]!.startsWith("listening on tls://127.0.0.1:"));
    const sent = await runScript(
      SEND,
      ["--port", String(receiver.port), "--tls", "--ca", "tests/fixtures/ca.crt", file],
      { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${file},tests/fixtures`] },
    );
    assert.equal(sent.code, 0, sent.stderr);
    await assertSameFile(`${dir}/secret.bin`, file);

    // Plain TCP to a TLS receiver fails with an explanation, not a hang.
    const plain = await runScript(SEND, ["--port", String(receiver.port), "--retries", "0", file], {
      denoFlags: sendFlags(file),
    });
    assert.equal(plain.code, 1);
    assert.equal((await receiver.interrupt()).code, 0);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
