import assert from "node:assert/strict";
import { BufferedReader } from "../../lib/io/buffered_reader.ts";
import { FrameTooLargeError, IncompleteFrameError } from "../../lib/framing/frame_errors.ts";
import {
  decodeMessage,
  encodeMessage,
  type FileTransferMessage,
  MAX_CONTROL_FRAME_SIZE,
} from "../../lib/file_transfer/file_transfer_protocol.ts";
import { formatBytes, formatRate } from "../../lib/cli/format_bytes.ts";
import { encodeLengthPrefixed } from "../../lib/framing/length_prefixed.ts";
import { formatProgress, ProgressBar } from "../../lib/cli/progress_bar.ts";
import { assertSafeFileName, MAX_FILE_NAME_BYTES } from "../../lib/file_transfer/safe_file_name.ts";

const encoder = new TextEncoder();

/** A fake connection that returns `stream` cut into the given chunk lengths. */
function chunkedReader(stream: Uint8Array, cuts: number[]) {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const cut of cuts) {
    if (cut > at) chunks.push(stream.subarray(at, cut));
    at = Math.max(at, cut);
  }
  if (at < stream.length) chunks.push(stream.subarray(at));
  return {
    read(p: Uint8Array): Promise<number | null> {
      const next = chunks[0];
      if (next === undefined) return Promise.resolve(null);
      const n = Math.min(p.length, next.length);
      p.set(next.subarray(0, n));
      if (n === next.length) chunks.shift();
      else chunks[0] = next.subarray(n);
      return Promise.resolve(n);
    },
  };
}

Deno.test("assertSafeFileName accepts plain names and refuses paths, dot names and control characters", () => {
  for (const name of ["a.txt", "report 2026.pdf", "ünïcødé.bin", "x".repeat(MAX_FILE_NAME_BYTES)]) {
    assert.equal(assertSafeFileName(name), name);
  }
  const hostile: [unknown, RegExp][] = [
    ["../x", /path separator/], // climbs out of the directory
    ["/etc/x", /path separator/], // absolute path
    ["a/b", /path separator/], // subdirectory
    ["..\\x", /path separator/], // Windows separator
    ["C:\\x", /path separator/], // Windows absolute path
    ["..", /starts with '.'/], // parent directory itself
    [".", /starts with '.'/], // the directory itself
    [".x.bin.part", /starts with '.'/], // would clash with our temporary files
    ["", /empty/],
    ["a\u0000b", /control character/], // NUL truncates paths in C APIs
    ["a\nb", /control character/], // would forge log lines
    ["x".repeat(MAX_FILE_NAME_BYTES + 1), /over the limit/],
    ["é".repeat(MAX_FILE_NAME_BYTES / 2 + 1), /over the limit/], // counted in UTF-8 bytes
    ["a:b", /':'/],
    ["a.", /ends with/],
    [42, /expected a string/],
  ];
  for (const [name, message] of hostile) {
    assert.throws(() => assertSafeFileName(name), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, message, `for ${JSON.stringify(name)}`);
      return true;
    });
  }
});

Deno.test("decodeMessage returns each message type after encodeMessage", () => {
  const messages: FileTransferMessage[] = [
    { type: "file", version: 1, name: "x.bin", size: 0 },
    { type: "file", version: 1, name: "x.bin", size: Number.MAX_SAFE_INTEGER },
    { type: "resume", offset: 5, sha256: "ab".repeat(32) },
    { type: "start", offset: 0 },
    { type: "verdict", ok: true, name: "x.bin", size: 3, sha256: "cd".repeat(32) },
    { type: "verdict", ok: false, error: "busy", retry: true },
  ];
  for (const message of messages) {
    const frame = encodeMessage(message);
    assert.equal(new DataView(frame.buffer).getUint32(0), frame.length - 4);
    assert.deepEqual(decodeMessage(frame.subarray(4), [message.type]), message);
  }
});

Deno.test("decodeMessage rejects malformed, unexpected and oversized messages with the right error", () => {
  const cases: [string, RegExp, new (...args: never[]) => Error, number?][] = [
    ["not json", /not UTF-8 JSON/, SyntaxError],
    ["[1]", /JSON object/, TypeError],
    ['{"type":"start","offset":0}', /expected type file/, TypeError], // wrong step of the protocol
    ['{"type":"file","version":2,"name":"a","size":1}', /version 2/, TypeError],
    ['{"type":"file","version":1,"name":"a","size":-1}', /not a byte count/, TypeError],
    ['{"type":"file","version":1,"name":"a","size":1.5}', /not a byte count/, TypeError],
    ['{"type":"file","version":1,"name":"a","size":"1"}', /not a byte count/, TypeError],
    ['{"type":"file","version":1,"name":"../a","size":1}', /path separator/, TypeError],
    [
      '{"type":"file","version":1,"name":"a","size":11}',
      /exceeds the receiver's max-size of 10/,
      RangeError,
      10,
    ],
  ];
  for (const [json, message, kind, maxSize] of cases) {
    assert.throws(
      () => decodeMessage(encoder.encode(json), ["file"], { maxSize }),
      (error: unknown) => {
        assert.ok(error instanceof kind, `${json}: ${error}`);
        assert.match((error as Error).message, message);
        return true;
      },
    );
  }
  assert.throws(
    () => decodeMessage(encoder.encode('{"type":"resume","offset":1,"sha256":"XYZ"}'), ["resume"]),
    /64 lowercase hex/,
  );
  assert.throws(
    () => decodeMessage(new Uint8Array([0xff, 0xfe]), ["verdict"]),
    SyntaxError,
  );
  assert.throws(
    () => encodeMessage({ type: "verdict", ok: false, error: "x".repeat(MAX_CONTROL_FRAME_SIZE) }),
    RangeError,
  );
});

Deno.test("BufferedReader reads a frame, raw bytes and a trailer under every chunking", async () => {
  const header = encodeLengthPrefixed(encoder.encode('{"size":5}'));
  const stream = new Uint8Array([...header, 1, 2, 3, 4, 5, 9, 8, 7]);
  const h = header.length;
  const chunkings: [string, number[]][] = [
    ["everything in one read", []],
    ["one byte per read", Array.from(stream, (_, i) => i + 1)],
    ["length prefix split in two", [2]],
    ["header ends and data starts in the same read", [h + 2]],
    ["data and trailer in one read", [h]],
    ["trailer split", [h + 5, h + 6]],
  ];
  for (let cut = 1; cut < stream.length; cut++) chunkings.push([`single cut at ${cut}`, [cut]]);
  for (const [what, cuts] of chunkings) {
    // A tiny buffer also checks that data larger than one read is reassembled.
    const reader = new BufferedReader(chunkedReader(stream, cuts), { initialSize: 3, maxSize: 4 });
    const frame = await reader.readFrame();
    assert.equal(new TextDecoder().decode(frame!), '{"size":5}', what);
    const data: number[] = [];
    while (data.length < 5) {
      const piece = await reader.readSome(5 - data.length);
      assert.ok(piece !== null, what);
      data.push(...piece);
    }
    assert.deepEqual(data, [1, 2, 3, 4, 5], what);
    assert.deepEqual([...(await reader.readExact(3))!], [9, 8, 7], what);
    assert.equal(await reader.readSome(1), null, what);
    assert.equal(await reader.readFrame(), null, what);
  }
});

Deno.test("BufferedReader reports a stream that ends mid-frame and refuses an oversized frame", async () => {
  const truncated = encodeLengthPrefixed(new Uint8Array(10)).subarray(0, 8);
  await assert.rejects(
    new BufferedReader(chunkedReader(truncated, [2])).readFrame(),
    IncompleteFrameError,
  );
  await assert.rejects(
    new BufferedReader(chunkedReader(new Uint8Array([0, 0]), [])).readFrame(),
    IncompleteFrameError,
  );
  const big = new Uint8Array([0, 1, 0, 0]); // announces 65536 bytes, sends none
  await assert.rejects(
    new BufferedReader(chunkedReader(big, [])).readFrame({ maxFrameSize: 1024 }),
    (error: unknown) => error instanceof FrameTooLargeError && error.limit === 1024,
  );
  await assert.rejects(new BufferedReader(chunkedReader(big, [])).readSome(0), RangeError);
});

Deno.test("formatProgress shows bytes, percent, rate and ETA, and counts a resumed part out of the rate", () => {
  const line = formatProgress(
    { done: 150_000_000, total: 200_000_000, startAt: 100_000_000, elapsedMs: 2000, label: "x" },
    100,
  );
  assert.match(
    line,
    /^x \[#+\.+\] +75\.0% {2}143\.1 MiB\/190\.7 MiB +23\.8 MiB\/s {2}ETA 0:02$/,
  );
  assert.ok(line.length <= 100);
  const start = formatProgress(
    { done: 0, total: 10, startAt: 0, elapsedMs: 0, label: "" },
    80,
  );
  assert.match(start, /0\.0% .* - B\/s {2}ETA -:--$/);
  const empty = formatProgress({ done: 0, total: 0, startAt: 0, elapsedMs: 5, label: "" }, 80);
  assert.match(empty, /100\.0%.*ETA 0:00$/);
  const narrow = formatProgress(
    { done: 5, total: 10, startAt: 0, elapsedMs: 1000, label: "long-name.bin" },
    30,
  );
  assert.ok(narrow.length <= 30, narrow);
  const slow = formatProgress(
    { done: 1, total: 3_601_000, startAt: 0, elapsedMs: 1000, label: "" },
    120,
  );
  assert.match(slow, /ETA 1000:16:39$/);
});

Deno.test("ProgressBar redraws at most once per interval on a terminal and writes nothing elsewhere", () => {
  let clock = 0;
  const drawn: string[] = [];
  const bar = new ProgressBar(100, {
    terminal: true,
    write: (text) => drawn.push(text),
    now: () => clock,
    interval: 100,
    columns: 80,
  });
  for (let done = 0; done <= 100; done += 10) {
    bar.update(done);
    clock += 30;
  }
  bar.finish(100);
  bar.update(100); // after finish: ignored
  // Draws at t=0, 120, 240 (every 4th update of 30 ms), then the final one.
  assert.equal(drawn.length, 4);
  assert.ok(drawn.every((text) => text.startsWith("\r")));
  assert.match(drawn.at(-1)!, /100\.0%.*\n$/);

  const silent: string[] = [];
  const off = new ProgressBar(100, { terminal: false, write: (text) => silent.push(text) });
  off.update(50);
  off.finish(100);
  assert.deepEqual(silent, []);
});

Deno.test("formatBytes and formatRate use binary sizes and decimal MB/s", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1_073_741_824), "1.0 GiB");
  assert.equal(formatRate(1e6, 1), "1.0 MB/s");
  assert.equal(formatRate(1e6, 0), "- MB/s");
  assert.equal(formatRate(999_999, 1), "1000.0 kB/s");
  assert.equal(formatRate(0, 1), "0.0 kB/s");
});
