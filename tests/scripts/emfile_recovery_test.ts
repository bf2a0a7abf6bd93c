/**
 * The chat and WebSocket servers under a real, low open-file limit: after a
 * flood of connections has run them out of descriptors and left, they serve
 * 20 clients at once again (issue 10, §1). The echo server has the same
 * tests in tcp_echo_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { OPCODE } from "../../lib/websocket/websocket_frame.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import {
  assertAllServed,
  emfileEpisode,
  floodPastDescriptorLimit,
  ulimitPrefix,
} from "../helpers/fd_flood.ts";
import { startScript } from "../helpers/script_process.ts";
import { RawWsClient } from "../helpers/ws_raw_client.ts";

/** Registers a nick and waits until it joined: a chat client served normally. */
async function joinsChat(port: number, nick: string): Promise<boolean> {
  await using client = await ChatLineClient.connect(port);
  await client.send(nick);
  const line = await client.waitFor(new RegExp(`joined #|full|busy`));
  return line.includes(`${nick} joined #`);
}

/** Completes a WebSocket handshake and gets one message echoed: served normally. */
async function echoesOverWebSocket(port: number, text: string): Promise<boolean> {
  let client;
  try {
    client = await RawWsClient.connect(port);
  } catch (error) {
    if (/Handshake refused: HTTP\/1\.1 503/.test(String(error))) return false;
    throw error;
  }
  using ws = client;
  await ws.sendFrame(OPCODE.TEXT, text);
  const event = await ws.next();
  assert.deepEqual(event, { type: "text", data: text });
  return true;
}

// Regression: see the echo server's test. One EMFILE episode left these
// servers serving one client at a time for good.
Deno.test("chat_server under ulimit -n 64 serves 20 clients at once after a flood of 100 has left", async () => {
  await using server = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"], {
    prefix: ulimitPrefix(64),
  });
  await floodPastDescriptorLimit(server, 100);
  // The probe queues behind the flood: once it is served, the flood was accepted.
  assert.ok(await joinsChat(server.port, "probe"));
  await assertAllServed(20, (i) => joinsChat(server.port, `user${i}`));
  const { limits } = emfileEpisode(server);
  assert.ok(limits.every((limit) => limit >= limits[0]!), `limits ${limits}`);
});

Deno.test("ws_server under ulimit -n 64 serves 20 clients at once after a flood of 100 has left", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0"], {
    prefix: ulimitPrefix(64),
  });
  await floodPastDescriptorLimit(server, 100);
  assert.ok(await echoesOverWebSocket(server.port, "probe"));
  await assertAllServed(20, (i) => echoesOverWebSocket(server.port, `client ${i}`));
  const { limits } = emfileEpisode(server);
  assert.ok(limits.every((limit) => limit >= limits[0]!), `limits ${limits}`);
});
