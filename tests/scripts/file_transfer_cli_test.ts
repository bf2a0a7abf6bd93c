/**
 * scripts/file_send.ts and scripts/file_receive.ts end to end: spawned with
 * the exact, narrow permissions their headers document.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readProcessUsage } from "../../lib/load/process_usage.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { runScript, type ScriptProcess, startScript } from "../helpers/script_process.ts";
import { writeRandomFile } from "../../lib/file_transfer/write_random_file.ts";
import { missingTool } from "../helpers/external_tool.ts";

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
        /^sent big\.bin: 200\.0 MiB in [\d.]+ s \([\d.]+ MiB\/s\), sha256 [0-9a-f]{64}, verified by the receiver\n$/,
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
    // With the default --retries 3: a refused first connection fails at once,
    // without a warning per retry (nothing listens there; waiting will not help).
    const refused = await runScript(SEND, ["--port", String(port), file], {
      denoFlags: sendFlags(file),
    });
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `error: connection refused: is the server running on 127.0.0.1:${port}?\n`,
    );

    // Not a file-transfer receiver: the echo server sends our header back.
    await using echo = await startScript("tcp_echo_server.ts", ["--port", "0"], {
      denoFlags: ["--allow-net=127.0.0.1"],
    });
    const echoed = await runScript(SEND, ["--port", String(echo.port), file], {
      denoFlags: sendFlags(file),
    });
    assert.equal(echoed.code, 1);
    assert.equal(
      echoed.stderr,
      `error: cannot send small.txt: 127.0.0.1:${echo.port} does not speak the file-transfer protocol (it echoed our header: an echo server?)\n`,
    );
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

/** The receiver's flags for a secret file next to its directory. */
function secretReceiveFlags(dir: string, secretFile: string): string[] {
  return ["--allow-net=127.0.0.1", `--allow-read=${dir},${secretFile}`, `--allow-write=${dir}`];
}

Deno.test("file_receive.ts --secret-file takes files only from senders that know the secret", async () => {
  const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
  try {
    const dir = `${base}/received`;
    const secretFile = `${base}/secret.txt`;
    const file = `${base}/photo.bin`;
    await Deno.writeTextFile(secretFile, "tea for two\n");
    await writeRandomFile(file, 300_000);
    await using receiver = await startScript(
      RECEIVE,
      ["--port", "0", "--dir", dir, "--secret-file", secretFile],
      { denoFlags: secretReceiveFlags(dir, secretFile) },
    );
    await receiver.waitForLine(/from senders that know the secret/);
    const port = String(receiver.port);

    const none = await runScript(SEND, ["--port", port, file], { denoFlags: sendFlags(file) });
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^error: the receiver refused the file: this receiver needs --secret: give it with --secret-file PATH/,
    );
    const wrong = await runScript(SEND, ["--port", port, "--secret", "tea for three", file], {
      denoFlags: sendFlags(file),
    });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, "error: the receiver refused the file: wrong secret\n");
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written, not even a .part");

    // The environment variable, so the secret is not in `ps`.
    const right = await runScript(SEND, ["--port", port, file], {
      denoFlags: [...sendFlags(file), "--allow-env=FILE_TRANSFER_SECRET"],
      env: { FILE_TRANSFER_SECRET: "tea for two" },
    });
    assert.equal(right.code, 0, right.stderr);
    assert.equal(right.stderr, "");
    await assertSameFile(`${dir}/photo.bin`, file);
    await receiver.waitForLine(/refused: wrong secret/);

    assert.equal((await receiver.interrupt()).code, 0);
    assert.ok(receiver.stderr.some((line) => /shut down: saved 1 file, 2 unsaved/.test(line)));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("file_receive.ts warns when it listens off loopback without --secret, and not with one", async () => {
  // Bind only: nothing is sent to 0.0.0.0.
  const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
  try {
    const dir = `${base}/received`;
    const flags = ["--allow-net=0.0.0.0", `--allow-read=${dir}`, `--allow-write=${dir}`];
    {
      await using open = await startScript(
        RECEIVE,
        ["--host", "0.0.0.0", "--port", "0", "--dir", dir],
        { denoFlags: flags },
      );
      const warning = await open.waitForLine(/no --secret/);
      assert.match(
        warning,
        /no --secret: anyone who can reach 0\.0\.0\.0:\d+ can write files of up to 1\.0 GiB into .*received\/; use --secret-file, with --tls-cert/,
      );
      assert.equal((await open.interrupt()).code, 0);
    }
    {
      await using guarded = await startScript(
        RECEIVE,
        ["--host", "0.0.0.0", "--port", "0", "--dir", dir, "--secret", "x"],
        { denoFlags: flags },
      );
      await guarded.waitForLine(/saving files in/);
      assert.equal((await guarded.interrupt()).code, 0);
      assert.equal(guarded.countLines(/no --secret/), 0);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("file_receive.ts fails at startup with advice when the system will not let it write in --dir", async () => {
  // Regression (newcomer trial B10): the Deno permission was checked at
  // startup but not the directory's own mode, so the receiver said "saving
  // files in D/" and failed only when a file arrived. Root may write
  // anywhere, so as root the receiver runs as nobody (setpriv).
  const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
  try {
    const dir = `${base}/readonly`;
    await Deno.mkdir(dir);
    await Deno.chmod(base, 0o755);
    await Deno.chmod(dir, 0o555);
    const id = await new Deno.Command("id", { args: ["-u"], stdout: "piped" }).output();
    const root = decoder.decode(id.stdout).trim() === "0";
    // As nobody, the checkout itself may be unreadable (a clone in a 0700
    // temp dir): run a copy of scripts/ and lib/ from the world-readable base.
    let script = join(import.meta.dirname!, "../../scripts/file_receive.ts");
    if (root) {
      const repo = join(import.meta.dirname!, "../..");
      const copy = await new Deno.Command("cp", {
        args: ["-r", join(repo, "scripts"), join(repo, "lib"), base],
      }).output();
      assert.ok(copy.success, "cp -r scripts lib");
      await new Deno.Command("chmod", {
        args: ["-R", "a+rX", join(base, "scripts"), join(base, "lib")],
      })
        .output();
      script = join(base, "scripts/file_receive.ts");
    }
    const args = [
      "run",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      script,
      "--port",
      "0",
      "--dir",
      dir,
    ];
    const command = root
      ? new Deno.Command("setpriv", {
        args: ["--reuid=nobody", "--regid=nogroup", "--clear-groups", Deno.execPath(), ...args],
        env: { NO_COLOR: "1", DENO_DIR: `${base}/deno_dir` },
        stdout: "piped",
        stderr: "piped",
      })
      : new Deno.Command(Deno.execPath(), {
        args,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      });
    if (root) {
      await Deno.mkdir(`${base}/deno_dir`);
      await Deno.chmod(`${base}/deno_dir`, 0o777);
    }
    const output = await command.output();
    const stderr = decoder.decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.equal(decoder.decode(output.stdout), "", "no listening line");
    assert.equal(
      stderr,
      `error: cannot use --dir ${dir}: cannot create files in it (Permission denied (os error 13)): fix its permissions or choose another --dir\n`,
    );
  } finally {
    await Deno.chmod(`${base}/readonly`, 0o755).catch(() => {});
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("nc pushing a file into file_receive.ts reads a plain-text hint", {
  ignore: await missingTool("nc", ["-h"]),
}, async () => {
  const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
  try {
    const dir = `${base}/received`;
    await using receiver = await startScript(RECEIVE, ["--port", "0", "--dir", dir], {
      denoFlags: receiveFlags(dir),
    });
    const nc = await new Deno.Command("nc", {
      args: ["-N", "127.0.0.1", String(receiver.port)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = nc.stdin.getWriter();
    await writer.write(await Deno.readFile(new URL("../../deno.json", import.meta.url)));
    await writer.close();
    const output = await nc.output();
    assert.match(
      decoder.decode(output.stdout),
      /^error: this port speaks the file-transfer protocol of file_send\.ts .*deno task file-send FILE`\n$/,
    );
    await receiver.waitForLine(/refused: not a file-transfer client/);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("file_send.ts waits for a busy receiver and says so once per retry, then sends", async () => {
  const base = await Deno.makeTempDir({ prefix: "file_transfer_cli_" });
  try {
    const dir = `${base}/received`;
    const file = `${base}/a.txt`;
    await Deno.writeTextFile(file, "hello\n");
    await using receiver = await startScript(
      RECEIVE,
      ["--port", "0", "--dir", dir, "--max-connections", "1"],
      { denoFlags: receiveFlags(dir) },
    );
    // Holds the only slot until the sender has said it will retry.
    const held = await Deno.connect({ hostname: "127.0.0.1", port: receiver.port });
    try {
      // Accepted first (the kernel queues connections in order), so the sender is refused.
      await using sender = await startScript(SEND, ["--port", String(receiver.port), file], {
        denoFlags: sendFlags(file),
        waitForListening: false,
      });
      const warning = await sender.waitForLine(/^warning:/);
      assert.equal(
        warning,
        "warning: the receiver is busy (1 sender at once) (retry 1 of 3 in 0.5 s)",
      );
      closeQuietly(held);
      const status = await sender.child.status;
      await sender.waitForLine(/^sent a\.txt/);
      assert.equal(status.code, 0, sender.stderr.join("\n"));
    } finally {
      closeQuietly(held);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

/**
 * Makes a directory this process cannot create files in: mode 0555 for an ordinary user; for
 * root, who ignores modes, the immutable attribute (`chattr +i`, on a file system that has it).
 * Each is checked by trying to create a file.
 * Returns undefined if it cannot.
 */
async function unwritableDir(): Promise<{ path: string; restore(): Promise<void> } | undefined> {
  const path = await Deno.makeTempDir({ prefix: "unwritable-" });
  const chattr = (flag: string) =>
    new Deno.Command("chattr", { args: [flag, path], stdout: "null", stderr: "null" }).output()
      .then((output) => output.success, () => false);
  const remove = () => Deno.remove(path, { recursive: true });
  const canCreateFiles = () =>
    Deno.writeFile(join(path, "probe"), new Uint8Array(0), { createNew: true })
      .then(() => Deno.remove(join(path, "probe")))
      .then(() => true, () => false);
  await Deno.chmod(path, 0o555);
  if (!(await canCreateFiles())) {
    return {
      path,
      restore: () => Deno.chmod(path, 0o755).then(remove),
    };
  }
  await Deno.chmod(path, 0o755);
  if (await chattr("+i")) {
    if (!(await canCreateFiles())) return { path, restore: () => chattr("-i").then(remove) };
    await chattr("-i");
  }
  await remove();
  return undefined;
}

/** Whether this machine lets the test make such a directory (it is made and undone at once). */
const CAN_MAKE_UNWRITABLE = await unwritableDir().then(async (dir) => {
  await dir?.restore();
  return dir !== undefined;
});

// The receiver checked Deno's permission for --dir at start but not the system's, so a
// directory it could not write (root's, mode 0755) showed up only when the first file arrived,
// as a refused transfer on the sender's side. It now creates and removes a probe file at start.
Deno.test({
  name: "file_receive.ts refuses at start a --dir it cannot create files in",
  ignore: !CAN_MAKE_UNWRITABLE,
  async fn() {
    const dir = await unwritableDir();
    assert.ok(dir);
    try {
      // startScript rejects, with the script's stderr, when it exits before listening.
      const failure = await startScript(RECEIVE, ["--port", "0", "--dir", dir.path], {
        denoFlags: [
          "--allow-net=127.0.0.1",
          `--allow-read=${dir.path}`,
          `--allow-write=${dir.path}`,
        ],
      }).then(async (server) => {
        await server[Symbol.asyncDispose]();
        return undefined;
      }, (error: unknown) => error);
      assert.ok(failure instanceof Error, "file_receive.ts listened with a --dir it cannot write");
      assert.match(
        failure.message,
        /error: cannot use --dir .*: cannot create files in it \(.*\): fix its permissions or choose another --dir/,
      );
    } finally {
      await dir.restore();
    }
  },
});
