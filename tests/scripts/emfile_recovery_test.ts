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
  waitUntilServed,
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
    // Refused: today a text line and a close, in the wiring round a 503.
    if (
      /Handshake refused: HTTP\/1\.1 503|Connection closed during the handshake/.test(String(error))
    ) {
      return false;
    }
    throw error;
  }
  using ws = client;
  await ws.sendFrame(OPCODE.TEXT, text);
  const event = await ws.next();
  assert.deepEqual(event, { type: "text", data: text });
  return true;
}

/** Opens the chat's WebSocket: served normally if the handshake is a 101. */
async function opensChatSocket(port: number): Promise<boolean> {
  try {
    using _ws = await RawWsClient.connect(port, { path: "/chat" });
    return true;
  } catch (error) {
    // Refused: today a text line and a close, in the wiring round a 503.
    if (
      /Handshake refused: HTTP\/1\.1 503|Connection closed during the handshake/.test(String(error))
    ) {
      return false;
    }
    throw error;
  }
}

// Regression: see the echo server's test. One EMFILE episode left these
// servers serving one client at a time for good.
Deno.test("chat_server under ulimit -n 64 serves 20 clients at once after a flood of 100 has left", async () => {
  await using server = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"], {
    prefix: ulimitPrefix(64),
  });
  await floodPastDescriptorLimit(server, 100);
  // A probe queues behind the flood: once one is served, the flood was accepted.
  let probes = 0;
  await waitUntilServed(() => joinsChat(server.port, `probe${probes++}`));
  await assertAllServed(20, (i) => joinsChat(server.port, `user${i}`));
  const { limits } = emfileEpisode(server);
  assert.ok(limits.every((limit) => limit >= limits[0]!), `limits ${limits}`);
});

Deno.test("ws_server under ulimit -n 64 serves 20 clients at once after a flood of 100 has left", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0"], {
    prefix: ulimitPrefix(64),
  });
  await floodPastDescriptorLimit(server, 100);
  await waitUntilServed(() => echoesOverWebSocket(server.port, "probe"));
  await assertAllServed(20, (i) => echoesOverWebSocket(server.port, `client ${i}`));
  const { limits } = emfileEpisode(server);
  assert.ok(limits.every((limit) => limit >= limits[0]!), `limits ${limits}`);
});

// The chat's two ports share the process's descriptors: the web port runs out
// while TCP members hold most of them, and once they have left it serves 20
// browsers at once.
Deno.test("chat_server under ulimit -n 64: after a flood of its web port, the web port serves 20 at once once TCP members leave", async () => {
  await using server = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"], {
    prefix: ulimitPrefix(64),
  });
  const webLine = await server.waitForLine(/listening on http:\/\/127\.0\.0\.1:\d+\//);
  const webPort = Number(webLine.match(/:(\d+)\/$/)![1]);
  await using watcher = await ChatLineClient.connect(server.port, "watcher");
  const members = [];
  try {
    for (let i = 0; i < 25; i++) members.push(await ChatLineClient.connect(server.port, `tcp${i}`));
    await floodPastDescriptorLimit({ ...server, port: webPort }, 100);
  } finally {
    for (const member of members) await member[Symbol.asyncDispose]();
  }
  // The watcher sees each member leave; the web probe queues behind the flood.
  for (let i = 0; i < 25; i++) await watcher.waitFor(/tcp\d+ left #/);
  await waitUntilServed(() => opensChatSocket(webPort));
  await assertAllServed(20, () => opensChatSocket(webPort));
});
