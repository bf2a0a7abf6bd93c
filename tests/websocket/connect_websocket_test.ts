// connectWebSocket, the client role on our own RFC 6455 code, over real loopback sockets: against
// our ws_server (Pings and Pongs reach onControl both ways), and against raw servers that read
// the client's frames byte by byte (masking) or answer the handshake wrongly.
import assert from "node:assert/strict";
import { connectWebSocket } from "../../lib/websocket/connect_websocket.ts";
import { WebSocketOpenError } from "../../lib/websocket/websocket_client.ts";
import { encodeFrame, OPCODE } from "../../lib/websocket/websocket_frame.ts";
import { OK_101, rawServer } from "../helpers/ws_raw_server.ts";
import { startWsServer } from "../../lib/websocket/ws_server.ts";
import type { ServerLogger } from "../../lib/net/logger.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SILENT_LOGGER: ServerLogger = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("connectWebSocket pings our ws_server and sees the Pong with its payload", async () => {
  await using server = startWsServer({ port: 0, logger: SILENT_LOGGER });
  const pong = Promise.withResolvers<Uint8Array>();
  const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/echo`, {
    onControl: (opcode, payload) => opcode === OPCODE.PONG && pong.resolve(payload),
  });
  try {
    assert.equal(ws.ping(encoder.encode("are you there")), true);
    // Reading is pulled: the Pong is read (and reported) while we wait for a message.
    const next = ws.receive();
    assert.equal(decoder.decode(await pong.promise), "are you there");
    ws.send("hello");
    assert.deepEqual(await next, { type: "text", data: "hello" });
  } finally {
    const info = await ws.close();
    assert.deepEqual(info, { code: 1000, reason: "", wasClean: true });
  }
});

Deno.test("connectWebSocket sees the Pings of our ws_server's heartbeat and answers them", async () => {
  // idleTimeout 400 ms: the server pings after 200 ms of silence, and closes at 400 ms unless
  // our automatic Pong counts as activity.
  await using server = startWsServer({ port: 0, idleTimeout: 400, logger: SILENT_LOGGER });
  const pings: string[] = [];
  const twoPings = Promise.withResolvers<void>();
  const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/echo`, {
    onControl: (opcode) => {
      if (opcode === OPCODE.PING && pings.push("ping") === 2) twoPings.resolve();
    },
  });
  // The server's heartbeat runs while its handler waits for a message; ours reads meanwhile.
  const reading = ws.receive();
  await twoPings.promise;
  assert.equal(ws.readyState, "open");
  await ws.close();
  assert.equal(await reading, null);
});

Deno.test("connectWebSocket delivers replies that arrive after its Close frame", async () => {
  await using server = startWsServer({ port: 0, logger: SILENT_LOGGER });
  const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/echo`);
  for (let i = 0; i < 20; i++) ws.send(`message ${i}`);
  const closing = ws.close();
  const received: string[] = [];
  for (let message; (message = await ws.receive()) !== null;) received.push(String(message.data));
  assert.deepEqual(received, Array.from({ length: 20 }, (_, i) => `message ${i}`));
  assert.equal((await closing).wasClean, true);
});

Deno.test("connectWebSocket masks every frame with a fresh key (RFC 6455 §5.3)", async () => {
  const { port, seen } = rawServer(OK_101);
  const ws = await connectWebSocket(`ws://127.0.0.1:${port}/raw?x=1`, {
    headers: { Origin: "http://127.0.0.1" },
  });
  ws.send("one");
  ws.send("two");
  ws.send(new Uint8Array(300).fill(7)); // a 16-bit extended length
  ws.ping(encoder.encode("p"));
  await ws.close();
  const { head, frames } = await seen;
  assert.equal(head.get("sec-websocket-version"), "13");
  assert.equal(head.get("origin"), "http://127.0.0.1");
  assert.equal(atob(head.get("sec-websocket-key") ?? "").length, 16);
  assert.deepEqual(frames.map((f) => f.event.type), ["text", "text", "binary", "ping", "close"]);
  assert.deepEqual(frames.map((f) => f.masked), [true, true, true, true, true]);
  // Five random 32-bit keys: a repeat would mean the key is not fresh per frame.
  assert.equal(new Set(frames.map((f) => f.key)).size, 5);
  assert.deepEqual(frames[0]!.event, { type: "text", data: "one" });
});

Deno.test("connectWebSocket fails the connection with 1002 on a masked frame from the server", async () => {
  const masked = encodeFrame(OPCODE.TEXT, "sneaky", { mask: true });
  const { port, seen } = rawServer(OK_101, masked);
  const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`);
  assert.equal(await ws.receive(), null);
  const info = await ws.closed;
  assert.equal(info.code, 1002);
  assert.match(info.reason, /masked/);
  const { frames } = await seen;
  assert.equal(frames.at(-1)?.event.type, "close");
  assert.equal((frames.at(-1)?.event as { code: number }).code, 1002);
});

for (
  const [name, answer, pattern] of [
    [
      "a wrong Sec-WebSocket-Accept",
      (_accept: string) => OK_101("dGhpcyBpcyB3cm9uZw=="),
      /Sec-WebSocket-Accept does not match/,
    ],
    [
      "an extension it did not offer (permessage-deflate)",
      (accept: string) => OK_101(accept) + "\r\nSec-WebSocket-Extensions: permessage-deflate",
      /extension "permessage-deflate", which we did not offer/,
    ],
    [
      "a subprotocol it did not offer",
      (accept: string) => OK_101(accept) + "\r\nSec-WebSocket-Protocol: other",
      /subprotocol "other", which we did not offer/,
    ],
    [
      "a 404",
      (_accept: string) => "HTTP/1.1 404 Not Found\r\nContent-Length: 0",
      /handshake rejected by 127\.0\.0\.1:\d+: HTTP 404/,
    ],
  ] as const
) {
  Deno.test(`connectWebSocket refuses ${name}`, async () => {
    const { port, seen } = rawServer(answer);
    await assert.rejects(
      connectWebSocket(`ws://127.0.0.1:${port}/`, { protocols: ["chat"] }),
      (error: unknown) => error instanceof WebSocketOpenError && pattern.test(error.message),
    );
    await seen; // the client closed the connection: the server saw the end of the stream
  });
}

Deno.test("connectWebSocket accepts the subprotocol it offered", async () => {
  const { port, seen } = rawServer((accept, head) => {
    assert.equal(head.get("sec-websocket-protocol"), "chat, superchat");
    return OK_101(accept) + "\r\nSec-WebSocket-Protocol: superchat";
  });
  const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`, {
    protocols: ["chat", "superchat"],
  });
  assert.equal(ws.protocol, "superchat");
  await ws.close();
  await seen;
});

Deno.test("connectWebSocket gives up on a server that never answers the handshake", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  try {
    await assert.rejects(
      connectWebSocket(`ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`, {
        timeout: 200,
      }),
      (error: unknown) => error instanceof WebSocketOpenError && error.code === "timeout",
    );
  } finally {
    (await accepted).close();
    listener.close();
  }
});
