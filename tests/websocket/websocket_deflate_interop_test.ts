// permessage-deflate with real peers: python websockets and headless Chromium (both offer it by
// default) and the runtime's own WebSocket client (which does not), against a small echo server
// built from lib/ in the test, on a free loopback port.
import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { HttpError } from "../../lib/http/http_error.ts";
import { readRequestHead } from "../../lib/http/http_request_head.ts";
import { encodeHttpErrorResponse } from "../../lib/http/http_response.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { serveTcp } from "../../lib/tcp/serve_tcp.ts";
import type { PerMessageDeflate } from "../../lib/websocket/websocket_deflate.ts";
import {
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
} from "../../lib/websocket/websocket_upgrade.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { missingTool } from "../helpers/external_tool.ts";

/** An echo server on a free port that records what each connection negotiated. */
function startEchoServer(options: UpgradeWebSocketOptions = {}) {
  const negotiated: (PerMessageDeflate | undefined)[] = [];
  const server = serveTcp(async (conn) => {
    const reader = new ChunkReader(conn);
    try {
      const request = await readRequestHead(reader, { signal: AbortSignal.timeout(10_000) });
      if (request === null) return;
      const ws = await upgradeWebSocket(conn, reader, request, {
        originPolicy: () => true, // the browser page is about:blank
        ...options,
      });
      negotiated.push(ws.perMessageDeflate);
      for (let m; (m = await ws.receive()) !== null;) ws.send(m.data);
      await ws.closed;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      await writeAll(conn, encodeHttpErrorResponse(error));
    }
  }, {
    hostname: "127.0.0.1",
    port: 0,
    handleSignals: false,
    logger: new Logger({ write: () => {} }),
  });
  return {
    port: server.addr.port,
    negotiated,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const PYTHON_CLIENT = `
import asyncio, json, sys
from websockets.client import connect

async def main(port):
    async with connect(f"ws://127.0.0.1:{port}/") as ws:
        results = {"extensions": [e.name for e in ws.protocol.extensions] if hasattr(ws, "protocol") else [e.name for e in ws.extensions]}
        for message in ["small", "κόσμε " * 2000, b"\\x00\\x01" * 5000, "x" * 70000, ""]:
            await ws.send(message)
            assert await ws.recv() == message, repr(message)[:40]
        await ws.send(["frag" * 300, "mented" * 300])  # fragmented and compressed
        assert await ws.recv() == "frag" * 300 + "mented" * 300
        results["ok"] = True
        print(json.dumps(results), flush=True)

asyncio.run(main(int(sys.argv[1])))
`;

const NO_PYTHON = await missingTool("/usr/bin/python3", ["-c", "import websockets.client"]);

Deno.test({
  name: "python websockets negotiates permessage-deflate and gets every message back",
  ignore: NO_PYTHON,
  async fn() {
    await using server = startEchoServer();
    const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
      args: ["-W", "ignore", "-c", PYTHON_CLIENT, String(server.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(code, 0, decoder.decode(stderr));
    const result = JSON.parse(decoder.decode(stdout));
    assert.deepEqual(result, { extensions: ["permessage-deflate"], ok: true });
    assert.equal(server.negotiated[0]?.clientNoContextTakeover, true);
  },
});

Deno.test({
  name: "python websockets works with permessage-deflate turned off",
  ignore: NO_PYTHON,
  async fn() {
    await using server = startEchoServer({ perMessageDeflate: false });
    const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
      args: ["-W", "ignore", "-c", PYTHON_CLIENT, String(server.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(code, 0, decoder.decode(stderr));
    assert.deepEqual(JSON.parse(decoder.decode(stdout)), { extensions: [], ok: true });
    assert.deepEqual(server.negotiated, [undefined]);
  },
});

Deno.test("the runtime's WebSocket client talks to a server with permessage-deflate on", async () => {
  await using server = startEchoServer();
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  ws.binaryType = "arraybuffer";
  const messages: unknown[] = [];
  let next = Promise.withResolvers<void>();
  ws.onmessage = (event) => {
    messages.push(event.data);
    next.resolve();
  };
  const closed = new Promise((resolve) => ws.onclose = resolve);
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    // Whether it offers the extension or not, the conversation must work; record which.
    const big = "a".repeat(5000);
    for (const message of ["small", big]) {
      next = Promise.withResolvers<void>();
      ws.send(message);
      await next.promise;
      assert.equal(messages.at(-1), message);
    }
    assert.equal(server.negotiated[0] !== undefined, ws.extensions.includes("permessage-deflate"));
  } finally {
    ws.close();
    await closed;
  }
});

const NO_CHROMIUM = await missingTool("chromium", ["--version"]);

Deno.test({
  name: "Chromium negotiates permessage-deflate and gets compressed echoes back",
  ignore: NO_CHROMIUM,
  async fn() {
    await using server = startEchoServer();
    await using browser = await launchChromium();
    const page = await browser.newPage();
    const result = await page.evaluate<{ extensions: string; echoed: boolean[] }>(`
      new Promise((resolve, reject) => {
        const ws = new WebSocket("ws://127.0.0.1:${server.port}/");
        ws.binaryType = "arraybuffer";
        const sent = ["small", "chat line ".repeat(500), "κόσμε".repeat(3000)];
        const echoed = [];
        ws.onerror = () => reject(new Error("WebSocket error"));
        ws.onopen = () => {
          for (const message of sent) ws.send(message);
          ws.send(new Uint8Array(8000).fill(7));
        };
        ws.onmessage = (event) => {
          const i = echoed.length;
          if (i < sent.length) echoed.push(event.data === sent[i]);
          else echoed.push(new Uint8Array(event.data).every((b) => b === 7) && event.data.byteLength === 8000);
          if (echoed.length === sent.length + 1) {
            ws.close(1000);
            resolve({ extensions: ws.extensions, echoed });
          }
        };
      })
    `);
    assert.deepEqual(result, {
      extensions: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
      echoed: [true, true, true, true],
    });
  },
});
