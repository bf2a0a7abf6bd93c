// The WebSocket server over real sockets: a raw-frame conformance client (Autobahn categories
// 1-7) with a canary client that must be served throughout, limits, and the HTTP side.
import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { encodeClosePayload } from "../../lib/websocket/websocket_close.ts";
import { encodeFrame, OPCODE } from "../../lib/websocket/websocket_frame.ts";
import {
  startWsServer,
  type WsServer,
  type WsServerOptions,
} from "../../lib/websocket/ws_server.ts";
import { RawWsClient, type ServerEvent } from "../helpers/ws_raw_client.ts";
import { runWebSocketLoad } from "../../lib/load/websocket_load.ts";

/** A server on a free port whose log lines are collected, and a way to wait for one. */
function startServer(options: Partial<WsServerOptions> = {}) {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const logger = new Logger({
    color: false,
    write: (line) => {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
  });
  const server: WsServer = startWsServer({
    hostname: "127.0.0.1",
    port: 0,
    maxMessageSize: 1024 * 1024,
    maxFragments: 1024,
    maxBufferedAmount: 4 * 1024 * 1024,
    maxConnections: 100,
    idleTimeout: 0,
    handshakeTimeout: 5000,
    protocols: [],
    allowedOrigins: [],
    handleSignals: false,
    logger,
    ...options,
  });
  const waitForLog = async (pattern: RegExp, timeoutMs = 10_000): Promise<void> => {
    if (lines.some((line) => pattern.test(line))) return;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    waiters.push({ pattern, resolve });
    const timer = setTimeout(
      () => reject(new Error(`No log line matching ${pattern}:\n${lines.join("\n")}`)),
      timeoutMs,
    );
    try {
      await promise;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    server,
    port: server.addr.port,
    lines,
    waitForLog,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const text = (data: string): ServerEvent => ({ type: "text", data });
const encoder = new TextEncoder();

/** Checks that a long-lived client is still served: one echo round trip. */
async function assertCanaryServed(canary: RawWsClient, label: string): Promise<void> {
  await canary.sendFrame(OPCODE.TEXT, `canary after ${label}`);
  assert.deepEqual(await canary.next(), text(`canary after ${label}`), label);
}

interface Case {
  name: string;
  frames: Uint8Array[];
  /** Frames expected before the Close frame. */
  before?: ServerEvent[];
  /** The expected close code. */
  close: number;
}

function masked(opcode: number, payload: Uint8Array | string = "", fin = true, rsv = 0) {
  return encodeFrame(opcode, payload, { mask: true, fin, rsv });
}

const closeWith = (code: number) => masked(OPCODE.CLOSE, encodeClosePayload(code));

/** Conformance cases that end in a Close frame from the server. */
const FAILING_CASES: Case[] = [
  // Autobahn 2: pings.
  { name: "ping with 126 bytes", frames: [masked(OPCODE.PING, new Uint8Array(126))], close: 1002 },
  { name: "fragmented ping", frames: [masked(OPCODE.PING, "a", false)], close: 1002 },
  // Autobahn 3: reserved bits, after a valid message that must still be echoed.
  ...[1, 2, 3, 4, 5, 6, 7].map((rsv) => ({
    name: `RSV ${rsv} after a valid message`,
    frames: [masked(OPCODE.TEXT, "ok"), masked(OPCODE.TEXT, "x", true, rsv)],
    before: [text("ok")],
    close: 1002,
  })),
  // Autobahn 4: reserved opcodes.
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((opcode) => ({
    name: `opcode ${opcode}`,
    frames: [masked(opcode, "x")],
    close: 1002,
  })),
  // Autobahn 5: fragmentation.
  { name: "continuation without start", frames: [masked(OPCODE.CONTINUATION, "x")], close: 1002 },
  {
    name: "text inside a fragmented message",
    frames: [masked(OPCODE.TEXT, "a", false), masked(OPCODE.TEXT, "b")],
    close: 1002,
  },
  // Autobahn 6: invalid UTF-8 (a surrogate), whole and split between two fragments.
  {
    name: "invalid UTF-8",
    frames: [masked(OPCODE.TEXT, new Uint8Array([0xed, 0xa0, 0x80]))],
    close: 1007,
  },
  ...[1, 2].map((split) => ({
    name: `invalid UTF-8 split at byte ${split}`,
    frames: [
      masked(OPCODE.TEXT, new Uint8Array([0xed, 0xa0, 0x80]).subarray(0, split), false),
      masked(OPCODE.CONTINUATION, new Uint8Array([0xed, 0xa0, 0x80]).subarray(split)),
    ],
    close: 1007,
  })),
  // Autobahn 7: close frames.
  {
    name: "close with a 1-byte payload",
    frames: [masked(OPCODE.CLOSE, new Uint8Array([3]))],
    close: 1002,
  },
  ...[0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000].map((code) => ({
    name: `close code ${code}`,
    frames: [masked(OPCODE.CLOSE, new Uint8Array([code >> 8, code & 0xff]))],
    close: 1002,
  })),
  // RFC 6455 §5.1: a server must fail a connection on an unmasked client frame.
  { name: "unmasked frame", frames: [encodeFrame(OPCODE.TEXT, "plain")], close: 1002 },
];

Deno.test("ws_server answers each protocol violation with the right Close code and keeps serving others", async () => {
  await using server = startServer();
  using canary = await RawWsClient.connect(server.port);
  for (const testCase of FAILING_CASES) {
    using client = await RawWsClient.connect(server.port);
    for (const frame of testCase.frames) await client.send(frame);
    const { code, before } = await client.expectClose();
    assert.equal(code, testCase.close, testCase.name);
    assert.deepEqual(before, testCase.before ?? [], testCase.name);
    await assertCanaryServed(canary, testCase.name);
  }
});

Deno.test("ws_server echoes every payload length, fragments and valid UTF-8 (Autobahn 1, 5, 6)", async () => {
  await using server = startServer();
  using canary = await RawWsClient.connect(server.port);
  using client = await RawWsClient.connect(server.port);
  for (const length of [0, 125, 126, 127, 65535, 65536]) {
    const data = new Uint8Array(length).map((_, i) => i * 13);
    await client.sendFrame(OPCODE.BINARY, data);
    assert.deepEqual(await client.next(), { type: "binary", data }, `binary ${length}`);
    await client.sendFrame(OPCODE.TEXT, "t".repeat(length));
    assert.deepEqual(await client.next(), text("t".repeat(length)), `text ${length}`);
  }
  // Fragments with a ping between them: the pong comes first, then the whole message.
  await client.send(masked(OPCODE.TEXT, "frag", false));
  await client.send(masked(OPCODE.PING, "between"));
  await client.send(masked(OPCODE.CONTINUATION, "ment"));
  assert.deepEqual(await client.next(), { type: "pong", data: encoder.encode("between") });
  assert.deepEqual(await client.next(), text("fragment"));
  // Valid UTF-8 split at every byte between two fragments.
  const value = encoder.encode("κόσμε \u{10ffff}");
  for (let split = 0; split <= value.length; split++) {
    await client.send(masked(OPCODE.TEXT, value.subarray(0, split), false));
    await client.send(masked(OPCODE.CONTINUATION, value.subarray(split)));
    assert.deepEqual(await client.next(), text("κόσμε \u{10ffff}"), `split at ${split}`);
  }
  // Pings of 0 and 125 bytes come back as pongs; an unsolicited pong gets no answer.
  await client.send(masked(OPCODE.PING));
  assert.deepEqual(await client.next(), { type: "pong", data: new Uint8Array(0) });
  await client.send(masked(OPCODE.PING, new Uint8Array(125).fill(7)));
  assert.deepEqual(await client.next(), { type: "pong", data: new Uint8Array(125).fill(7) });
  await client.send(masked(OPCODE.PONG, "unsolicited"));
  await client.sendFrame(OPCODE.TEXT, "still open");
  assert.deepEqual(await client.next(), text("still open"));
  await assertCanaryServed(canary, "valid traffic");
});

Deno.test("ws_server completes the closing handshake and ignores data after Close (Autobahn 7)", async () => {
  await using server = startServer();
  for (const code of [1000, 1001, 3000, 4999]) {
    using client = await RawWsClient.connect(server.port);
    await client.send(closeWith(code));
    await client.sendFrame(OPCODE.TEXT, "after close");
    const result = await client.expectClose();
    assert.equal(result.code, code);
    assert.deepEqual(result.before, []);
  }
  // An empty Close is answered with an empty one (seen as 1005).
  using client = await RawWsClient.connect(server.port);
  await client.send(masked(OPCODE.CLOSE));
  assert.equal((await client.expectClose()).code, 1005);
  // Messages sent just before Close are still echoed, before the Close reply.
  using eager = await RawWsClient.connect(server.port);
  await eager.send(
    new Uint8Array([
      ...masked(OPCODE.TEXT, "one"),
      ...masked(OPCODE.TEXT, "two"),
      ...closeWith(1000),
    ]),
  );
  const result = await eager.expectClose();
  assert.deepEqual(result.before, [text("one"), text("two")]);
});

Deno.test("ws_server refuses a message over --max-message from its header with 1009", async () => {
  await using server = startServer({ maxMessageSize: 1024 * 1024 });
  using canary = await RawWsClient.connect(server.port);
  using client = await RawWsClient.connect(server.port);
  // Only the 10-byte header of a 1 MiB + 1 frame, its masking key, and no payload at all.
  const header = masked(OPCODE.BINARY, new Uint8Array(1024 * 1024 + 1)).subarray(0, 14);
  await client.send(header);
  assert.equal((await client.expectClose()).code, 1009);
  // Exactly 1 MiB is fine.
  const data = new Uint8Array(1024 * 1024).fill(1);
  await canary.sendFrame(OPCODE.BINARY, data);
  assert.deepEqual(await canary.next(), { type: "binary", data });
});

Deno.test("ws_server refuses a message split into more than --max-fragments frames with 1009", async () => {
  await using server = startServer({ maxFragments: 3 });
  using client = await RawWsClient.connect(server.port);
  await client.send(masked(OPCODE.TEXT, "a", false));
  await client.send(masked(OPCODE.CONTINUATION, "b", false));
  await client.send(masked(OPCODE.CONTINUATION, "c"));
  assert.deepEqual(await client.next(), text("abc"));
  for (let i = 0; i < 4; i++) {
    await client.send(masked(i ? OPCODE.CONTINUATION : OPCODE.TEXT, "x", false));
  }
  assert.equal((await client.expectClose()).code, 1009);
});

Deno.test("ws_server answers plain HTTP: the page, 404, 426, 400 and 403", async () => {
  await using server = startServer({ allowedOrigins: ["https://app.example"] });
  const base = `http://127.0.0.1:${server.port}`;
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script src="ws_server_page.js" defer>/);
  const script = await fetch(`${base}/ws_server_page.js`);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /new WebSocket/);
  const missing = await fetch(`${base}/missing`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /try/);
  const plain = await fetch(`${base}/echo`);
  assert.equal(plain.status, 426);
  await plain.body?.cancel();

  // Raw requests for what fetch cannot send.
  async function rawRequest(request: string): Promise<string> {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await conn.write(encoder.encode(request));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(4096);
    for (let n; (n = await conn.read(buffer)) !== null;) chunks.push(buffer.slice(0, n));
    return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  }
  const upgrade = (extra: string, path = "/echo") =>
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
  assert.match(
    await rawRequest(upgrade("Sec-WebSocket-Version: 8\r\n")),
    /^HTTP\/1.1 426 [^]*Sec-WebSocket-Version: 13/,
  );
  assert.match(
    await rawRequest(upgrade("Sec-WebSocket-Version: 13\r\n", "/nope")),
    /^HTTP\/1.1 404 /,
  );
  assert.match(
    await rawRequest(upgrade("Sec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n")),
    /^HTTP\/1.1 403 [^]*origin https:\/\/evil.example is not allowed/,
  );
  assert.match(await rawRequest("GARBAGE\r\n\r\n"), /^HTTP\/1.1 400 /);
  // A page answers GET only; the reason and the Allow header say so.
  assert.match(
    await rawRequest("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"),
    /^HTTP\/1.1 405 Method Not Allowed\r\n[^]*Allow: GET\r\n[^]*Cannot POST \/: only GET is served\n$/,
  );
  assert.match(
    await rawRequest("GET /missing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    // The page's script and style are listed too: they are real paths.
    /Nothing at \/missing: try \/, \/ws_server_page.css, \/ws_server_page.js, \/echo or \/broadcast\n$/,
  );
  assert.match(
    await rawRequest(`GET / HTTP/1.1\r\n${"X-Long: y\r\n".repeat(2000)}\r\n`),
    /^HTTP\/1.1 431 /,
  );
  // The server's own origin and a listed origin are accepted.
  for (const origin of [`http://127.0.0.1:${server.port}`, "https://app.example"]) {
    using client = await RawWsClient.connect(server.port, {
      headers: { "Sec-WebSocket-Version": "13", Origin: origin },
    });
    assert.match(client.responseHead, /^HTTP\/1.1 101 /);
  }
});

Deno.test("ws_server selects the first offered subprotocol it supports", async () => {
  await using server = startServer({ protocols: ["chat.v2", "chat.v1"] });
  using client = await RawWsClient.connect(server.port, {
    headers: { "Sec-WebSocket-Protocol": "chat.v1, chat.v2" },
  });
  assert.match(client.responseHead, /Sec-WebSocket-Protocol: chat.v1\r\n/);
  using other = await RawWsClient.connect(server.port, {
    headers: { "Sec-WebSocket-Protocol": "mqtt" },
  });
  assert.doesNotMatch(other.responseHead, /Sec-WebSocket-Protocol/);
});

Deno.test("ws_server closes a client that does not finish its request head in time", async () => {
  await using server = startServer({ handshakeTimeout: 200 });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(encoder.encode("GET /echo HTTP/1.1\r\nHost: x\r\n"));
  const buffer = new Uint8Array(4096);
  const n = await conn.read(buffer);
  assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1.1 408 /);
});

Deno.test("ws_server broadcasts to every other client and closes a stalled one with 1008", async () => {
  await using server = startServer({ maxBufferedAmount: 256 * 1024 });
  using sender = await RawWsClient.connect(server.port, { path: "/broadcast" });
  using reader = await RawWsClient.connect(server.port, { path: "/broadcast" });
  using stalled = await RawWsClient.connect(server.port, { path: "/broadcast" });
  await server.waitForLog(/#3 .* opened \/broadcast/);
  // 64 MiB in 16 KiB messages: far more than loopback socket buffers plus the 256 KiB queue.
  // The sender keeps at most 8 messages ahead of the reader, so only the stalled client
  // falls behind.
  const COUNT = 4096;
  const WINDOW = 8;
  let got = 0;
  let progress = Promise.withResolvers<void>();
  const received = (async () => {
    for (; got < COUNT; got++) {
      const event = await reader.next();
      assert.equal(event.type, "binary", `message ${got}`);
      assert.equal((event as { data: Uint8Array }).data[0], got & 0xff, `message ${got} in order`);
      progress.resolve();
    }
  })();
  const payload = new Uint8Array(16 * 1024);
  for (let i = 0; i < COUNT; i++) {
    while (i - got >= WINDOW) {
      progress = Promise.withResolvers<void>();
      await Promise.race([progress.promise, received]);
    }
    payload[0] = i & 0xff;
    await sender.sendFrame(OPCODE.BINARY, payload);
  }
  await received;
  await server.waitForLog(/#3 .* closed \/broadcast: 1008 send queue full/);
  void stalled; // never read from: that is the point
});

Deno.test("ws_server closes a silent client after the idle timeout, with one close", async () => {
  await using server = startServer({ idleTimeout: 300 });
  using client = await RawWsClient.connect(server.port);
  // Pings arrive at half the timeout; a client that does not answer is closed with 1001.
  assert.equal((await client.next()).type, "ping");
  const result = await client.expectClose();
  assert.equal(result.code, 1001);
  await server.waitForLog(/closed \/echo: 1001 idle timeout \(unclean\)/);
  assert.equal(server.lines.filter((line) => line.includes("closed /echo")).length, 1);
});

Deno.test("ws_server keeps a client that answers pings past the idle timeout", async () => {
  // 1 s: pings every 0.5 s, so a pong that a loaded machine delays is still in time.
  await using server = startServer({ idleTimeout: 1000 });
  using client = await RawWsClient.connect(server.port);
  for (let pings = 0; pings < 4;) {
    const event = await client.next();
    assert.equal(event.type, "ping");
    pings++;
    await client.send(masked(OPCODE.PONG));
  }
  await client.sendFrame(OPCODE.TEXT, "alive");
  assert.deepEqual(await client.next(), text("alive"));
});

Deno.test("ws_server sends Close 1001 to every client on shutdown", async () => {
  const server = startServer();
  using a = await RawWsClient.connect(server.port);
  using b = await RawWsClient.connect(server.port, { path: "/broadcast" });
  await server.waitForLog(/#2 .* opened/);
  const shutdown = server.server.shutdown();
  const [closeA, closeB] = await Promise.all([a.next(), b.next()]);
  assert.deepEqual(closeA, { type: "close", code: 1001, reason: "server shutting down" });
  assert.deepEqual(closeB, { type: "close", code: 1001, reason: "server shutting down" });
  await a.send(closeWith(1001));
  await b.send(closeWith(1001));
  await shutdown;
});

Deno.test("runWebSocketLoad measures echo and broadcast against ws_server", async () => {
  await using server = startServer();
  const echo = await runWebSocketLoad({
    port: server.port,
    connections: 2,
    inFlight: 4,
    duration: 200,
    warmup: 50,
  });
  assert.ok(echo.messages > 0 && echo.messagesPerSecond > 0);
  assert.equal(echo.latency.count > 0, true);
  const broadcast = await runWebSocketLoad({
    port: server.port,
    mode: "broadcast",
    connections: 3,
    inFlight: 4,
    duration: 200,
    warmup: 50,
  });
  assert.ok(broadcast.messages > 0);
  await assert.rejects(
    runWebSocketLoad({ port: server.port, path: "/missing", duration: 100 }),
    /handshake refused: HTTP\/1.1 404/,
  );
});
