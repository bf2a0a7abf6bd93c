// End-to-end tests of scripts/ws_server.ts and scripts/ws_client.ts as processes: flags,
// shutdown, limits with the server's memory measured, and interop with the runtime's WebSocket,
// Python's websockets and TLS.
import { join } from "node:path";
import assert from "node:assert/strict";
import { OPCODE } from "../../lib/websocket/websocket_frame.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { runScript, startScript } from "../helpers/script_process.ts";
import { RawWsClient } from "../helpers/ws_raw_client.ts";

const NO_PYTHON_WEBSOCKETS = await missingTool("/usr/bin/python3", [
  "-c",
  "import websockets.client",
]);

const FIXTURES = join(import.meta.dirname!, "..", "fixtures");
const TLS_FLAGS = ["--allow-net=127.0.0.1,localhost", `--allow-read=${FIXTURES}`];
const decoder = new TextDecoder();

/** Opens a runtime WebSocket and waits for it to be open. */
async function openSocket(url: string, options: WebSocketOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  ws.binaryType = "arraybuffer";
  const { promise, resolve, reject } = Promise.withResolvers<WebSocket>();
  ws.onopen = () => resolve(ws);
  ws.onerror = (event) => reject(new Error((event as ErrorEvent).message));
  return await promise;
}

/** Resolves with the next message event's data. */
function nextMessage(ws: WebSocket): Promise<string | ArrayBuffer> {
  return new Promise((resolve) =>
    ws.addEventListener("message", (e) => resolve(e.data), { once: true })
  );
}

/** Closes a runtime WebSocket and waits for the close event. */
async function closeSocket(ws: WebSocket): Promise<CloseEvent> {
  const closed = new Promise<CloseEvent>((resolve) =>
    ws.addEventListener("close", resolve, { once: true })
  );
  if (ws.readyState !== WebSocket.CLOSED) ws.close(1000);
  return await closed;
}

/** Peak and current resident memory of a process, in bytes (Linux). */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number } | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const field = (name: string) =>
      Number(status.match(new RegExp(`${name}:\\s+(\\d+) kB`))?.[1]) * 1024;
    return { rss: field("VmRSS"), peak: field("VmHWM") };
  } catch {
    return null;
  }
}

Deno.test("ws_server.ts --help exits 0 and a bad flag exits 2", async () => {
  const help = await runScript("ws_server.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /--max-message BYTES/);
  const bad = await runScript("ws_server.ts", ["--port", "99999"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port/);
});

Deno.test("ws_server.ts echoes and broadcasts for the runtime's WebSocket, then Ctrl+C sends 1001 and exits 0", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0"]);
  const base = `ws://127.0.0.1:${server.port}`;
  const echo = await openSocket(`${base}/echo`);
  echo.send("héllo");
  assert.equal(await nextMessage(echo), "héllo");
  echo.send(new Uint8Array([0, 1, 255]));
  assert.deepEqual(
    new Uint8Array(await nextMessage(echo) as ArrayBuffer),
    new Uint8Array([0, 1, 255]),
  );

  const a = await openSocket(`${base}/broadcast`);
  const b = await openSocket(`${base}/broadcast`);
  await server.waitForLine(/#3 .*opened \/broadcast/);
  const atB = nextMessage(b);
  a.send("to everyone else");
  assert.equal(await atB, "to everyone else");

  const closes = [echo, a, b].map((ws) =>
    new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve, { once: true }))
  );
  const status = await server.interrupt();
  for (const event of await Promise.all(closes)) {
    assert.equal(event.code, 1001);
    assert.equal(event.reason, "server shutting down");
  }
  assert.equal(status.code, 0);
  // One summary at info level: three WebSockets, two echoed messages and one broadcast.
  assert.match(
    server.stderr.find((line) => /shut down:/.test(line)) ?? server.stderr.join("\n"),
    / info\s+shut down: served 3 connections, 3 messages$/,
  );
});

Deno.test("ws_server.ts fails 100 MiB of fragments without FIN with 1009, memory bounded", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0", "--quiet"]);
  const before = await memoryOf(server.child.pid);
  using client = await RawWsClient.connect(server.port);
  let closed = false;
  const closing = (async () => {
    for (;;) {
      const event = await client.next();
      if (event.type === "close") {
        closed = true;
        return event;
      }
      assert.notEqual(event.type, "eof", "the stream ended without a Close frame");
    }
  })();
  const fragment = new Uint8Array(64 * 1024);
  let sent = 0;
  try {
    await client.sendFrame(OPCODE.BINARY, fragment, { fin: false });
    for (sent = fragment.length; sent < 100 * 1024 * 1024 && !closed; sent += fragment.length) {
      await client.sendFrame(OPCODE.CONTINUATION, fragment, { fin: false });
    }
  } catch (error) {
    // The server may close before our last write lands.
    if (
      !(error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe)
    ) {
      throw error;
    }
  }
  const { code } = await closing;
  assert.equal(code, 1009);
  // The client may well have sent all 100 MiB before reading the Close: the server drops what
  // follows a protocol error instead of buffering it.
  assert.ok(sent >= 1024 * 1024);
  const after = await memoryOf(server.child.pid);
  if (before && after) {
    const growth = after.peak - before.rss;
    assert.ok(growth < 32 * 1024 * 1024, `peak memory grew by ${growth} bytes`);
  }
});

Deno.test("ws_server.ts serves wss:// with the test certificate, for the runtime and ws_client.ts", async () => {
  await using server = await startScript("ws_server.ts", [
    "--port",
    "0",
    "--tls-cert",
    join(FIXTURES, "localhost.crt"),
    "--tls-key",
    join(FIXTURES, "localhost.key"),
  ], { denoFlags: TLS_FLAGS });
  assert.match(server.stdout[0]!, /^listening on https:\/\//);
  const client = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(join(FIXTURES, "ca.crt"))],
  });
  try {
    const ws = await openSocket(`wss://localhost:${server.port}/echo`, { client });
    ws.send("over tls");
    assert.equal(await nextMessage(ws), "over tls");
    assert.equal((await closeSocket(ws)).code, 1000);
  } finally {
    client.close();
  }
  const result = await runScript(
    "ws_client.ts",
    [`wss://localhost:${server.port}/echo`, "--ca", join(FIXTURES, "ca.crt"), "--message", "hi"],
    { denoFlags: TLS_FLAGS },
  );
  assert.equal(decoder.decode(result.stdout), "hi\n", result.stderr);
  assert.equal(result.code, 0);
});

Deno.test("ws_client.ts sends one message, pipes stdin, and explains failures", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0"]);
  const url = `ws://127.0.0.1:${server.port}/echo`;
  const once = await runScript("ws_client.ts", [url, "--message", "ping me"]);
  assert.equal(decoder.decode(once.stdout), "ping me\n");
  assert.equal(once.code, 0);
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const piped = await runScript("ws_client.ts", [url], { stdin: new TextEncoder().encode(lines) });
  assert.equal(decoder.decode(piped.stdout), lines);
  assert.equal(piped.code, 0);

  const badUrl = await runScript("ws_client.ts", ["http://127.0.0.1/", "-m", "x"]);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /bad URL/);
  const notFound = await runScript("ws_client.ts", [
    `ws://127.0.0.1:${server.port}/nope`,
    "-m",
    "x",
  ]);
  assert.equal(notFound.code, 1);
  assert.match(notFound.stderr, /HTTP 404/);
  const forbidden = await runScript("ws_client.ts", [
    url,
    "-H",
    "Origin: https://evil.example",
    "-m",
    "x",
  ]);
  assert.match(forbidden.stderr, /HTTP 403/);
  // A port nothing listens on: take a free one and close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const freePort = listener.addr.port;
  listener.close();
  const refused = await runScript("ws_client.ts", [`ws://127.0.0.1:${freePort}/`, "-m", "x"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /connection refused: is the server running on 127.0.0.1:\d+\?/);
});

Deno.test("ws_client.ts reports the close code when a message is over --max-message", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0", "--max-message", "1000"]);
  const url = `ws://127.0.0.1:${server.port}/echo`;
  const fits = await runScript("ws_client.ts", [url, "-m", "x".repeat(1000)]);
  assert.equal(fits.code, 0);
  const tooBig = await runScript("ws_client.ts", [url, "-m", "x".repeat(1001)]);
  assert.equal(tooBig.code, 1);
  assert.match(
    tooBig.stderr,
    /closed by the server: 1009 Cannot decode frame: message of at least 1001 bytes/,
  );
});

Deno.test("ws_client.ts --bench reports messages per second and latency", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0", "--quiet"]);
  const result = await runScript("ws_client.ts", [
    `ws://127.0.0.1:${server.port}/echo`,
    "--bench",
    "--connections",
    "2",
    "--duration",
    "0.5",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    decoder.decode(result.stdout),
    /\d+ messages\/s, latency p50 [\d.]+ ms, p99 [\d.]+ ms/,
  );
});

const PYTHON_CLIENT = `
import asyncio, sys
from websockets.client import connect

async def main(port):
    async with connect(f"ws://127.0.0.1:{port}/echo") as ws:
        for message in ["hello", "κόσμε", b"\\x00\\xff" * 1000, "x" * 70000]:
            await ws.send(message)
            assert await ws.recv() == message
        await ws.send(["frag", "mented"])  # sent as a fragmented message
        assert await ws.recv() == "fragmented"
        await (await ws.ping(b"hb"))
    async with connect(f"ws://127.0.0.1:{port}/broadcast") as a, connect(f"ws://127.0.0.1:{port}/broadcast") as b:
        print("connected", flush=True)
        sys.stdin.readline()  # the test says go once the server has registered both
        await a.send("from a")
        assert await b.recv() == "from a"
        await b.send(b"from b")
        assert await a.recv() == b"from b"
    print("ok")

asyncio.run(main(int(sys.argv[1])))
`;

Deno.test(
  "ws_server.ts interoperates with Python's websockets",
  { ignore: NO_PYTHON_WEBSOCKETS },
  async () => {
    await using server = await startScript("ws_server.ts", ["--port", "0"]);
    const child = new Deno.Command("/usr/bin/python3", {
      args: ["-c", PYTHON_CLIENT, String(server.port)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    try {
      await server.waitForLine(/#3 .*opened \/broadcast/);
      await writer.write(new TextEncoder().encode("go\n"));
    } finally {
      await writer.close();
    }
    const output = await child.output();
    assert.equal(decoder.decode(output.stdout), "connected\nok\n", decoder.decode(output.stderr));
    assert.equal(output.code, 0);
  },
);

Deno.test("ws_server.ts listens on IPv6 and accepts its own [::1] origin", async () => {
  await using server = await startScript("ws_server.ts", ["--host", "::1", "--port", "0"]);
  assert.match(server.stdout[0]!, /^listening on http:\/\/\[::1\]:\d+\/$/);
  const ws = await openSocket(`ws://[::1]:${server.port}/echo`, {
    headers: { Origin: `http://[::1]:${server.port}` },
  });
  ws.send("over IPv6");
  assert.equal(await nextMessage(ws), "over IPv6");
  assert.equal((await closeSocket(ws)).code, 1000);
});

Deno.test("ws_server.ts sends an upgrade at / to --root, and --broadcast-to-sender includes the sender", async () => {
  // Generic load tools connect to ws://host:port/ and cannot choose a path.
  {
    await using server = await startScript("ws_server.ts", ["--port", "0", "--quiet"]);
    const ws = await openSocket(`ws://127.0.0.1:${server.port}/`);
    const reply = nextMessage(ws);
    ws.send("root is echo");
    assert.equal(await reply, "root is echo");
    await closeSocket(ws);
  }
  {
    await using server = await startScript("ws_server.ts", [
      "--port",
      "0",
      "--quiet",
      "--root",
      "broadcast",
      "--broadcast-to-sender",
    ]);
    const sender = await openSocket(`ws://127.0.0.1:${server.port}/`);
    const listener = await openSocket(`ws://127.0.0.1:${server.port}/`);
    // A first message proves both are in the room: each gets the listener's
    // hello (the listener its own copy), so neither handler can still be joining.
    const hellos = [nextMessage(sender), nextMessage(listener)];
    listener.send("hello");
    assert.deepEqual(await Promise.all(hellos), ["hello", "hello"]);
    const [toSender, toListener] = [nextMessage(sender), nextMessage(listener)];
    sender.send("to everyone");
    assert.deepEqual(await Promise.all([toSender, toListener]), ["to everyone", "to everyone"]);
    await Promise.all([closeSocket(sender), closeSocket(listener)]);
  }
  const bad = await runScript("ws_server.ts", ["--root", "nowhere"]);
  assert.equal(bad.code, 2);
});
