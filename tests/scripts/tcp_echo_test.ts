import { join } from "node:path";
import assert from "node:assert/strict";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { readProcessUsage } from "../../lib/load/process_usage.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { missingTool } from "../helpers/external_tool.ts";
import {
  assertAllServed,
  EMFILE_LINE,
  emfileEpisode,
  floodPastDescriptorLimit,
  ulimitPrefix,
  waitUntilServed,
} from "../helpers/fd_flood.ts";
import { runScript, startScript } from "../helpers/script_process.ts";

const SERVER = "tcp_echo_server.ts";
const CLIENT = "tcp_echo_client.ts";
const decoder = new TextDecoder();

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  }
  return bytes;
}

/** Sends `data`, half-closes, and returns everything echoed until the server closes. */
async function echoOnce(
  port: number,
  data: Uint8Array,
  hostname = "127.0.0.1",
): Promise<Uint8Array> {
  using conn = await Deno.connect({ hostname, port });
  const received = new Uint8Array(data.length);
  let got = 0;
  const reading = (async () => {
    const reader = new ChunkReader(conn);
    for (let chunk; (chunk = await reader.read()) !== null;) {
      assert.ok(got + chunk.length <= data.length, "more bytes came back than were sent");
      received.set(chunk, got);
      got += chunk.length;
    }
  })();
  await writeAll(conn, data);
  await conn.closeWrite();
  await reading;
  assert.equal(got, data.length);
  return received;
}

Deno.test("tcp_echo_server echoes a one-shot message from tcp_echo_client and exits 0 on SIGINT", async () => {
  await using server = await startScript(SERVER, ["--port", "0"]);
  const result = await runScript(CLIENT, [
    "--port",
    String(server.port),
    "--message",
    "hello, echo",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decoder.decode(result.stdout), "hello, echo\n");
  const status = await server.interrupt();
  assert.equal(status.code, 0);
  assert.ok(
    server.stderr.some((line) =>
      /info +shut down: served 1 connection, echoed 12 bytes/.test(line)
    ),
  );
});

Deno.test("tcp_echo_client pipe mode returns 1 MiB of binary data byte for byte", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  const data = randomBytes(1 << 20);
  const result = await runScript(CLIENT, ["--port", String(server.port)], { stdin: data });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout, data);
});

Deno.test("tcp_echo_server works over IPv6", async () => {
  await using server = await startScript(SERVER, ["--host", "::1", "--port", "0", "--quiet"]);
  assert.equal(server.hostname, "::1");
  assert.match(server.stdout[0]!, /listening on \[::1\]:\d+/);
  const data = randomBytes(10_000);
  assert.deepEqual(await echoOnce(server.port, data, "::1"), data);
  const result = await runScript(CLIENT, [
    "--host",
    "[::1]",
    "--port",
    String(server.port),
    "-m",
    "six",
  ]);
  assert.equal(decoder.decode(result.stdout), "six\n");
});

Deno.test("tcp_echo_server echoes 1,000 concurrent connections, every byte verified", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  const payloads = Array.from({ length: 1000 }, (_, i) => randomBytes(1 + (i * 7919) % 20_000));
  const echoes = await Promise.all(payloads.map((data) => echoOnce(server.port, data)));
  for (let i = 0; i < payloads.length; i++) {
    assert.deepEqual(echoes[i], payloads[i], `connection ${i}`);
  }
});

const NO_NC = await missingTool("nc", ["-h"]);
const NO_SOCAT = await missingTool("socat", ["-V"]);

async function pipeThroughTool(
  command: string,
  args: string[],
  data: Uint8Array,
): Promise<Uint8Array> {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const writing = writer.write(data).then(() => writer.close());
  const [output] = await Promise.all([child.output(), writing]);
  assert.ok(output.success, `${command} failed: ${decoder.decode(output.stderr)}`);
  return output.stdout;
}

Deno.test({
  name: "tcp_echo_server returns 1 MiB of random bytes to nc unchanged",
  ignore: NO_NC,
  async fn() {
    await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
    const data = randomBytes(1 << 20);
    // -N: shut down the sending side at the end of stdin, then read to EOF.
    const echoed = await pipeThroughTool("nc", ["-N", "127.0.0.1", String(server.port)], data);
    assert.deepEqual(echoed, data);
  },
});

Deno.test({
  name: "tcp_echo_server returns 1 MiB of random bytes to socat unchanged",
  ignore: NO_SOCAT,
  async fn() {
    await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
    const data = randomBytes(1 << 20);
    const echoed = await pipeThroughTool(
      "socat",
      ["-t", "10", "-", `TCP:127.0.0.1:${server.port}`],
      data,
    );
    assert.deepEqual(echoed, data);
  },
});

Deno.test("tcp_echo_server keeps serving others when a client resets mid-stream", async () => {
  // -v: connection lines are debug.
  await using server = await startScript(SERVER, ["--port", "0", "-v"]);
  const conn = await Deno.connect({ port: server.port });
  // Unread echoes in our receive buffer make close() send a RST, not a FIN.
  await writeAll(conn, randomBytes(200_000));
  conn.close();
  await server.waitForLine(/#1 .* (dropped|closed)/);
  const data = randomBytes(50_000);
  assert.deepEqual(await echoOnce(server.port, data), data);
});

Deno.test("tcp_echo_server memory stays bounded while a client sends but never reads", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  const before = await readProcessUsage(server.child.pid);
  const stalled = await Deno.connect({ port: server.port });
  // 64 MiB that the server cannot echo back: once the socket buffers are full
  // it must stop reading instead of buffering the rest.
  const flood = writeAll(stalled, new Uint8Array(64 << 20)).catch(() => "stopped");
  try {
    // Meanwhile others are served normally.
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(100_000);
      assert.deepEqual(await echoOnce(server.port, data), data);
    }
    const after = await readProcessUsage(server.child.pid);
    const growth = after.rssBytes - before.rssBytes;
    assert.ok(growth < 24 << 20, `server RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  } finally {
    stalled.close();
    await flood;
  }
});

Deno.test("tcp_echo_server on SIGINT closes connected clients cleanly and exits 0", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--verbose"]);
  const clients = await Promise.all(
    Array.from({ length: 5 }, () => Deno.connect({ port: server.port })),
  );
  try {
    for (let i = 0; i < clients.length; i++) {
      await server.waitForLine(new RegExp(`#${i + 1} .* connected`));
    }
    const started = performance.now();
    const status = await server.interrupt();
    assert.equal(status.code, 0);
    // The server has no grace period here, so it exits at once; this bound only
    // turns a hang (a timer or socket keeping the process alive) into a failure,
    // and is generous so that a loaded machine never trips it.
    assert.ok(performance.now() - started < 10_000, "did not exit promptly");
    for (const client of clients) {
      assert.equal(
        await client.read(new Uint8Array(16)),
        null,
        "the client sees an orderly end of stream",
      );
    }
  } finally {
    for (const client of clients) client.close();
  }
});

Deno.test("tcp_echo_server and client speak TLS with the test certificate", async () => {
  const fixtures = join(import.meta.dirname!, "..", "fixtures");
  await using server = await startScript(SERVER, [
    "--port",
    "0",
    "--tls-cert",
    join(fixtures, "localhost.crt"),
    "--tls-key",
    join(fixtures, "localhost.key"),
  ], { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${fixtures}`] });
  assert.match(server.stdout[0]!, /^listening on tls:\/\/127\.0\.0\.1:\d+$/);
  const result = await runScript(
    CLIENT,
    ["--port", String(server.port), "--tls", "--ca", join(fixtures, "ca.crt"), "-m", "over tls"],
    { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${fixtures}`] },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decoder.decode(result.stdout), "over tls\n");
  const untrusted = await runScript(CLIENT, ["--port", String(server.port), "--tls", "-m", "x"]);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /TLS handshake .* failed.*--ca FILE/);
});

Deno.test("tcp echo scripts answer --help, reject bad flags with exit 2, and explain refused connections", async () => {
  const help = await runScript(SERVER, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /--max-connections/);
  const bad = await runScript(SERVER, ["--port", "70000"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port: 70000 is out of range/);
  const unknown = await runScript(CLIENT, ["--frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option --frobnicate/);

  using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const refused = await runScript(CLIENT, ["--port", String(port), "-m", "x"]);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr.trim(),
    `error: connection refused: is the server running on 127.0.0.1:${port}?`,
  );

  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = await runScript(SERVER, ["--port", String(taken.addr.port)]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /address already in use/);
});

/** Connects, sends a line, and resolves to whether it came back (false: refused as busy). */
async function echoedBack(port: number, text: string): Promise<boolean> {
  using conn = await Deno.connect({ port });
  await writeAll(conn, new TextEncoder().encode(text));
  await conn.closeWrite();
  const reader = new ChunkReader(conn);
  let reply = "";
  for (let chunk; (chunk = await reader.read()) !== null;) reply += decoder.decode(chunk);
  if (/^error: server busy/.test(reply)) return false;
  assert.equal(reply, text);
  return true;
}

/** Milliseconds between two of the server's own log timestamps. */
function logSpanMs(first: string, last: string): number {
  const at = (line: string) => Date.parse(line.slice(0, line.indexOf(" ")));
  return at(last) - at(first);
}

Deno.test("tcp_echo_server idles while out of file descriptors, serves those it has, and refuses the queue politely", async () => {
  // With 200 descriptors the runtime's own files leave room for about 170
  // clients; the rest wait in the listen queue while accept() fails with EMFILE.
  await using server = await startScript(SERVER, ["--port", "0"], { prefix: ulimitPrefix(200) });
  const clients: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 220; i++) clients.push(await Deno.connect({ port: server.port }));
    const first = await server.waitForLine(EMFILE_LINE);
    const [, ceiling, limit, pause] = first.match(EMFILE_LINE)!.map(Number);
    assert.ok(ceiling! > 100 && ceiling! < 200, `ceiling ${ceiling}`);
    assert.ok(limit! < ceiling! && limit! >= ceiling! - 32, `limit ${limit}`);
    // Idle while waiting: nothing ends meanwhile, so each retry comes a full
    // pause after the previous one (by the server's own clock; a slow machine
    // only makes the gaps longer) and the process uses little CPU.
    const before = await readProcessUsage(server.child.pid);
    const started = performance.now();
    const fifth = await server.waitForLine(EMFILE_LINE, 10_000, 5);
    const wall = (performance.now() - started) / 1000;
    const cpu = (await readProcessUsage(server.child.pid)).cpuSeconds - before.cpuSeconds;
    assert.ok(logSpanMs(first, fifth) >= 4 * pause! * 0.9, `${first}\n${fifth}`);
    assert.ok(cpu < wall / 2, `used ${cpu.toFixed(2)} s of CPU in ${wall.toFixed(2)} s`);
    // An accepted client is still served.
    await writeAll(clients[0]!, new TextEncoder().encode("still here"));
    assert.equal(decoder.decode((await new ChunkReader(clients[0]!).read())!), "still here");
    // Free 40 descriptors: the queued clients are accepted now, and those over
    // the learned limit are told so instead of waiting in the queue forever.
    for (const client of clients.splice(0, 40)) client.close();
    const reply = await new ChunkReader(clients.at(-1)!).read();
    assert.match(decoder.decode(reply ?? new Uint8Array()), /^error: server busy/);
  } finally {
    for (const client of clients) client.close();
  }
  // The limit never went below the first one learned (refusals in flight count).
  const { limits } = emfileEpisode(server);
  assert.ok(limits.every((l) => l >= limits[0]!), `limits ${limits}`);
  // With the descriptors back, 20 clients at once are all served.
  await waitUntilServed(() => echoedBack(server.port, "probe"));
  await assertAllServed(20, (i) => echoedBack(server.port, `client ${i}`));
});

// Regression: the learned limit was max(1, open - 32) and only ever went down.
// When a flood left, the clients still queued were accepted in a burst and
// refused, their descriptors were not counted while the refusals completed,
// EMFILE struck again, and the limit ratcheted down to 1 for good.
Deno.test("tcp_echo_server under ulimit -n 64 serves 20 clients at once after a flood of 100 has left", async () => {
  await using server = await startScript(SERVER, ["--port", "0"], { prefix: ulimitPrefix(64) });
  await floodPastDescriptorLimit(server, 100);
  // A probe queues behind the flood: once one is served, the flood was accepted.
  await waitUntilServed(() => echoedBack(server.port, "probe"));
  await assertAllServed(20, (i) => echoedBack(server.port, `client ${i}`));
  const { limits } = emfileEpisode(server);
  assert.ok(limits.every((limit) => limit >= 21), `limits ${limits}`);
});

Deno.test("tcp_echo_server with --host twice serves both loopbacks on one port, with one summary", async () => {
  await using server = await startScript(SERVER, [
    "--host",
    "127.0.0.1",
    "--host",
    "[::1]",
    "--port",
    "0",
  ]);
  await server.waitForLine(/listening on \[::1\]:\d+$/);
  assert.deepEqual(server.stdout, [
    `listening on 127.0.0.1:${server.port}`,
    `listening on [::1]:${server.port}`,
  ]);
  for (const hostname of ["127.0.0.1", "::1"]) {
    const data = new TextEncoder().encode(`via ${hostname}`);
    assert.deepEqual(await echoOnce(server.port, data, hostname), data);
  }
  const status = await server.interrupt();
  assert.equal(status.code, 0);
  assert.equal(server.countLines(/shutting down/), 1, server.stderr.join("\n"));
  assert.equal(server.countLines(/info +shut down: served 2 connections, echoed 20 bytes$/), 1);
  // Connection lines are debug: shown with -v only.
  assert.equal(server.countLines(/ connected$/), 0);
});

Deno.test("tcp_echo_server -v logs each connection", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "-v"]);
  assert.deepEqual(await echoOnce(server.port, new Uint8Array([1])), new Uint8Array([1]));
  await server.waitForLine(/debug +#1 127\.0\.0\.1:\d+ connected$/);
  await server.waitForLine(/debug +#1 127\.0\.0\.1:\d+ closed after echoing 1 byte$/);
});

Deno.test("tcp_echo_server without net permission for its --host prints the whole deno run command", async () => {
  // Regression (newcomer trial B9): the advice named only the flag, which a
  // `deno task` user has nowhere to type.
  const denied = await runScript(SERVER, ["--host", "127.0.0.2", "-p", "0"], {
    denoFlags: ["--allow-net=127.0.0.1"],
  });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^error: permission denied: run with --allow-net=127\.0\.0\.2/);
  assert.match(
    denied.stderr,
    /\nrun: deno run --allow-net=127\.0\.0\.2 scripts\/tcp_echo_server\.ts --host 127\.0\.0\.2 -p 0\n$/,
  );
});
