/**
 * The WebSocket yardsticks the README's figures are measured against echo what they are sent:
 * a baseline that dropped or mangled messages would make any comparison meaningless.
 */

import assert from "node:assert/strict";
import { startScript } from "../helpers/script_process.ts";

/** Sends each message over the runtime's WebSocket client and collects the echoes in order. */
async function echoes(port: number, messages: string[]): Promise<string[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
  const received: string[] = [];
  const { promise: done, resolve, reject } = Promise.withResolvers<void>();
  ws.onopen = () => messages.forEach((message) => ws.send(message));
  ws.onmessage = (event) => {
    received.push(event.data);
    if (received.length === messages.length) resolve();
  };
  ws.onerror = () => reject(new Error("WebSocket error before every echo arrived"));
  const closed = new Promise((resolve) => ws.onclose = resolve);
  try {
    await done;
  } finally {
    ws.close();
    await closed;
  }
  return received;
}

// Short, 16-bit-length, multi-byte UTF-8, and enough of them to arrive several to a read.
const MESSAGES = ["hi", "x".repeat(300), "héllo wörld ✓", ...Array.from({ length: 50 }, String)];

for (const name of ["ws_conn_baseline.ts", "ws_echo_baseline.ts"]) {
  Deno.test(`bench baseline ${name} echoes every message in order`, async () => {
    await using server = await startScript(`bench/baselines/${name}`, ["0"], {
      denoFlags: ["--allow-net=127.0.0.1"],
    });
    assert.deepEqual(await echoes(server.port, MESSAGES), MESSAGES);
  });
}
