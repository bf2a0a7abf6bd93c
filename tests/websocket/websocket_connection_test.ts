// WebSocketConnection over a real loopback TCP pair: one end as server, the other as client
// (masked frames), the closing handshake from either side, and the send queue policy.
import assert from "node:assert/strict";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { WebSocketConnection } from "../../lib/websocket/websocket_connection.ts";
import type { WebSocketConnectionOptions } from "../../lib/websocket/websocket_connection_options.ts";
import { WebSocketDecoder, type WebSocketEvent } from "../../lib/websocket/websocket_decoder.ts";
import { encodeFrame, OPCODE } from "../../lib/websocket/websocket_frame.ts";
import { writeAll } from "../../lib/io/write_all.ts";

/** A connected TCP pair wrapped as server and client WebSockets (the handshake is skipped). */
async function pair(
  serverOptions: WebSocketConnectionOptions = {},
  clientOptions: WebSocketConnectionOptions = {},
) {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [serverConn, clientConn] = await Promise.all([
    listener.accept(),
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  ]);
  const server = new WebSocketConnection(serverConn, new ChunkReader(serverConn), serverOptions);
  const client = new WebSocketConnection(clientConn, new ChunkReader(clientConn), {
    role: "client",
    ...clientOptions,
  });
  return {
    server,
    client,
    async [Symbol.asyncDispose]() {
      // Close both ends without waiting for a handshake; then let their promises settle.
      for (const ws of [server, client]) {
        if (ws.readyState === "open") ws.close(1000).catch(() => {});
      }
      await Promise.all([server.closed, client.closed]);
    },
  };
}

Deno.test("WebSocketConnection exchanges text and binary between a client and a server", async () => {
  await using p = await pair();
  assert.ok(p.client.send("hello"));
  assert.ok(p.client.send(new Uint8Array([1, 2, 3])));
  assert.deepEqual(await p.server.receive(), { type: "text", data: "hello" });
  assert.deepEqual(await p.server.receive(), { type: "binary", data: new Uint8Array([1, 2, 3]) });
  const big = "x".repeat(200_000);
  p.server.send(big);
  assert.deepEqual(await p.client.receive(), { type: "text", data: big });
});

Deno.test("WebSocketConnection sends text, binary and prepared frames of one batch in order", async () => {
  // A server's text is written straight into the batch; binary and prepared frames are copied in.
  await using p = await pair();
  const sent: (string | Uint8Array)[] = [
    "one",
    new Uint8Array([1, 2]),
    "zwei ✓",
    "x".repeat(70_000), // more than a batch: it flushes what came before
    encodeFrame(OPCODE.TEXT, "prepared"),
    "drei",
  ];
  for (const item of sent) {
    assert.ok(
      item instanceof Uint8Array && item[0] === 0x81
        ? p.server.sendFrame(item)
        : p.server.send(item),
    );
  }
  const expected = [
    "one",
    new Uint8Array([1, 2]),
    "zwei ✓",
    "x".repeat(70_000),
    "prepared",
    "drei",
  ];
  for (const data of expected) {
    const message = await p.client.receive();
    assert.deepEqual(message, { type: typeof data === "string" ? "text" : "binary", data });
  }
});

Deno.test("WebSocketConnection never reuses a send buffer that is still being written", async () => {
  // Small batches are written from a buffer the connection reuses once the queue is empty;
  // here batches go out while earlier ones are still in flight, some of them partly written.
  await using p = await pair();
  const count = 3_000;
  const received = (async () => {
    for (let i = 0; i < count; i++) {
      const message = await p.client.receive();
      assert.deepEqual(message, { type: "text", data: `${i} `.padEnd(60 + (i % 200), "abc") });
    }
  })();
  for (let i = 0; i < count; i++) {
    assert.ok(p.server.send(`${i} `.padEnd(60 + (i % 200), "abc")));
    await null; // the send's batch is flushed to the queue in a microtask, before this resumes
    // Every few messages, let the queue write and the client read, as a server does between
    // messages; elsewhere the next batch is queued behind a write in flight.
    if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await received;
});

Deno.test("WebSocketConnection closes cleanly from the client side, with one result each", async () => {
  await using p = await pair();
  const serverReceive = p.server.receive(); // a pending read sees the Close frame
  const clientClosed = p.client.close(4000, "done here");
  assert.equal(p.client.readyState, "closing");
  assert.equal(await serverReceive, null);
  assert.deepEqual(await p.server.closed, { code: 4000, reason: "done here", wasClean: true });
  // The client reports the server's reply, which echoes the code without the reason.
  assert.deepEqual(await clientClosed, { code: 4000, reason: "", wasClean: true });
  assert.equal(p.client.readyState, "closed");
  assert.equal(p.client.send("too late"), false);
  assert.equal(await p.client.receive(), null);
  // close() again returns the same result instead of sending another Close frame.
  assert.deepEqual(await p.client.close(), { code: 4000, reason: "", wasClean: true });
});

Deno.test("WebSocketConnection delivers messages sent before Close, then null", async () => {
  await using p = await pair();
  p.client.send("one");
  p.client.send("two");
  const closing = p.client.close(1000);
  assert.deepEqual(await p.server.receive(), { type: "text", data: "one" });
  assert.deepEqual(await p.server.receive(), { type: "text", data: "two" });
  assert.equal(await p.server.receive(), null);
  assert.equal((await closing).code, 1000);
});

Deno.test("WebSocketConnection rejects invalid close codes, long reasons and big pings", async () => {
  await using p = await pair();
  assert.throws(() => p.client.close(1005), RangeError);
  assert.throws(() => p.client.close(1000, "x".repeat(124)), RangeError);
  assert.throws(() => p.client.ping(new Uint8Array(126)), RangeError);
  assert.equal(p.client.readyState, "open");
});

Deno.test("WebSocketConnection closes a peer that does not read with overflowCloseCode", async () => {
  // The client never calls receive(), so nothing drains its socket: the server's queue fills.
  await using p = await pair({
    maxBufferedAmount: 64 * 1024,
    overflowCloseCode: 1013,
    closeTimeout: 200,
  });
  const chunk = new Uint8Array(16 * 1024);
  let sent = 0;
  while (p.server.send(chunk)) {
    sent++;
    assert.ok(p.server.bufferedAmount <= 64 * 1024 + chunk.length + 16);
    // Yield to the event loop so the queue writes what the kernel takes, as a server does
    // between messages; the loop ends on the overflow, not on a time.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.ok(sent < 100_000, "the send queue never overflowed");
  }
  const closed = await p.server.closed;
  assert.equal(closed.code, 1013);
  assert.equal(closed.wasClean, false);
  assert.match(closed.reason, /send queue full/);
});

Deno.test("WebSocketConnection answers pings and reports pongs as activity", async () => {
  await using p = await pair({}, { pingInterval: 0, idleTimeout: 0 });
  assert.ok(p.client.ping(new Uint8Array([9])));
  // The server answers while it waits for a message; the client sees the pong as activity.
  const serverWaiting = p.server.receive();
  p.client.send("after ping");
  assert.deepEqual(await serverWaiting, { type: "text", data: "after ping" });
});

Deno.test("WebSocketConnection reads only when asked, so a slow consumer pushes back on the sender", async () => {
  await using p = await pair({ maxMessageSize: 64 * 1024 }, { maxBufferedAmount: 16 << 20 });
  // The server does not call receive(): nothing is read, the kernel buffers fill, and the
  // client's own send queue starts to grow. That growth is the push back.
  const message = new Uint8Array(64 * 1024);
  let sent = 0;
  while (p.client.bufferedAmount < 4 << 20) {
    message[0] = sent & 0xff;
    assert.ok(p.client.send(message));
    sent++;
    assert.ok(sent < 2000, "the sender never felt any push back");
    await new Promise((resolve) => setTimeout(resolve, 0)); // let the queue write what fits
  }
  // Now the consumer catches up and gets every message, in order.
  for (let i = 0; i < sent; i++) {
    const received = await p.server.receive();
    assert.equal(received?.type, "binary");
    assert.equal((received.data as Uint8Array)[0], i & 0xff);
  }
});

/** A server WebSocket and the raw TCP client end, for sending exact bytes. */
async function rawPair(serverOptions: WebSocketConnectionOptions = {}) {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [serverConn, client] = await Promise.all([
    listener.accept(),
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  ]);
  const server = new WebSocketConnection(serverConn, new ChunkReader(serverConn), serverOptions);
  const p = {
    server,
    client,
    /** Reads the server's frames until it closes the TCP connection. */
    async readAll(): Promise<WebSocketEvent[]> {
      const decoder = new WebSocketDecoder({ role: "client" });
      const events: WebSocketEvent[] = [];
      const reader = new ChunkReader(client);
      for (let chunk; (chunk = await reader.read()) !== null;) {
        decoder.decode(chunk, events);
        // Our end of the closing handshake: the server then closes TCP, which ends the loop.
        if (events.at(-1)?.type === "close") await p.client.closeWrite();
      }
      return events;
    },
    async [Symbol.asyncDispose]() {
      if (server.readyState === "open") server.close(1000).catch(() => {});
      await server.closed;
      client.close();
    },
  };
  return p;
}

// Regression: a valid message that arrived in the same read as a later protocol error was handed
// to the application, but the connection had already queued its Close frame, so the echo was
// refused (Autobahn 3.2, 4.1.3 and others reported NON-STRICT). The error now waits in the inbox
// behind the messages that preceded it.
Deno.test("WebSocketConnection answers valid messages that precede a protocol error, in every chunking", async () => {
  const valid = [
    encodeFrame(OPCODE.TEXT, "first", { mask: true }),
    encodeFrame(OPCODE.BINARY, new Uint8Array([1, 2]), { mask: true }),
  ];
  const invalid = encodeFrame(OPCODE.TEXT, "bad", { mask: true, rsv: 2 }); // RSV2: never valid
  const after = encodeFrame(OPCODE.TEXT, "after the error", { mask: true });
  const all = concatBytes([...valid, invalid, after]);
  const firstBad = valid[0]!.length + valid[1]!.length;
  const chunkings: [string, number[]][] = [
    ["everything in one write", []],
    ["the bad frame's header split from its first byte", [firstBad + 1]],
    ["the valid frames in one write, the bad one in the next", [firstBad]],
    ["split inside the first valid frame", [3]],
    ["one byte per write", Array.from({ length: all.length - 1 }, (_, i) => i + 1)],
  ];
  for (const [name, cuts] of chunkings) {
    await using p = await rawPair();
    const echo = (async () => {
      for (let m; (m = await p.server.receive()) !== null;) {
        assert.ok(p.server.send(m.data), `${name}: the echo of ${m.type} was refused`);
      }
    })();
    const bounds = [0, ...cuts, all.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      await writeAll(p.client, all.subarray(bounds[i], bounds[i + 1]));
    }
    const events = await p.readAll();
    await echo;
    assert.deepEqual(events.slice(0, 2), [
      { type: "text", data: "first" },
      { type: "binary", data: new Uint8Array([1, 2]) },
    ], name);
    assert.equal(events.length, 3, name);
    assert.equal(events[2]!.type, "close", name);
    assert.equal((events[2] as { code: number }).code, 1002, name);
    const closed = await p.server.closed;
    assert.equal(closed.code, 1002, name);
    assert.equal(closed.wasClean, false, name);
  }
});

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
