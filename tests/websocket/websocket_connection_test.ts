// WebSocketConnection over a real loopback TCP pair: one end as server, the other as client
// (masked frames), the closing handshake from either side, and the send queue policy.
import assert from "node:assert/strict";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import {
  WebSocketConnection,
  type WebSocketConnectionOptions,
} from "../../lib/websocket/websocket_connection.ts";

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
