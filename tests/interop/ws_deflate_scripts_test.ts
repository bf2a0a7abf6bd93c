// permessage-deflate through the real scripts/ws_server.ts: python websockets, headless
// Chromium and the runtime's WebSocket against /echo and /broadcast with compression on (the
// default) and with --no-deflate, plus a raw client that reads the broadcast frame's bytes to see
// that it arrives compressed (RSV1) or not.
import assert from "node:assert/strict";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { type ScriptProcess, startScript } from "../helpers/script_process.ts";

const NO_PYTHON = await missingTool("/usr/bin/python3", ["-c", "import websockets.client"]);
const NO_CHROMIUM = await missingTool("chromium", ["--version"]);
const BIG = "a broadcast line that compresses well ".repeat(100); // 3800 bytes
const decoder = new TextDecoder();

/**
 * A WebSocket client that offers permessage-deflate and reads the first data frame's header
 * bytes as they arrive, so a test can see RSV1 and the length on the wire.
 */
async function openRawClient(port: number, path: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new ChunkReader(conn);
  await writeAll(
    conn,
    new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
    ),
  );
  let buffered = new Uint8Array(0);
  const more = async () => {
    const chunk = await reader.read();
    if (chunk === null) throw new Error("the server closed the connection");
    const joined = new Uint8Array(buffered.length + chunk.length);
    joined.set(buffered);
    joined.set(chunk, buffered.length);
    buffered = joined;
  };
  let end;
  while ((end = decoder.decode(buffered).indexOf("\r\n\r\n")) < 0) await more();
  const head = decoder.decode(buffered.subarray(0, end));
  buffered = buffered.slice(end + 4);
  return {
    head,
    /** The first frame's first byte and payload length (7- or 16-bit lengths only). */
    async firstFrame(): Promise<{ byte0: number; length: number }> {
      while (buffered.length < 4) await more();
      const short = buffered[1]! & 0x7f;
      return {
        byte0: buffered[0]!,
        length: short < 126 ? short : (buffered[2]! << 8) | buffered[3]!,
      };
    },
    close: () => closeQuietly(conn),
  };
}

const PYTHON_CLIENT = `
import asyncio, json, sys
from websockets.client import connect

def names(ws):
    extensions = ws.protocol.extensions if hasattr(ws, "protocol") else ws.extensions
    return [e.name for e in extensions]

async def main(port, big):
    base = f"ws://127.0.0.1:{port}"
    result = {}
    async with connect(base + "/echo") as ws:
        result["echo"] = names(ws)
        for message in ["small", big, b"\\x00" * 9000]:
            await ws.send(message)
            assert await ws.recv() == message, repr(message)[:40]
    async with connect(base + "/broadcast") as a, connect(base + "/broadcast") as b:
        result["broadcast"] = names(a)
        await a.send(big)
        assert await asyncio.wait_for(b.recv(), 10) == big
    result["ok"] = True
    print(json.dumps(result), flush=True)

asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
`;

async function runPython(port: number): Promise<unknown> {
  const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
    args: ["-W", "ignore", "-c", PYTHON_CLIENT, String(port), BIG],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, decoder.decode(stderr));
  return JSON.parse(decoder.decode(stdout));
}

/** Starts ws_server.ts with `args` on a free port, quietly enough for a test. */
function startServer(args: string[] = []): Promise<ScriptProcess> {
  return startScript("ws_server.ts", ["--port", "0", ...args]);
}

Deno.test({
  name:
    "ws_server.ts negotiates permessage-deflate with python websockets and broadcasts compressed",
  ignore: NO_PYTHON,
  async fn() {
    await using server = await startServer();
    const raw = await openRawClient(server.port, "/broadcast");
    try {
      assert.match(
        raw.head,
        /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover/i,
      );
      await server.waitForLine(/#1 .*opened \/broadcast \(compressed\)/);
      assert.deepEqual(await runPython(server.port), {
        echo: ["permessage-deflate"],
        broadcast: ["permessage-deflate"],
        ok: true,
      });
      // The raw client got python's broadcast too, as one compressed frame (FIN, RSV1, text).
      const frame = await raw.firstFrame();
      assert.equal(frame.byte0, 0xc1);
      assert.ok(frame.length < BIG.length / 10, `compressed to ${frame.length} bytes`);
    } finally {
      raw.close();
    }
    assert.equal((await server.interrupt()).code, 0);
  },
});

Deno.test({
  name: "ws_server.ts --no-deflate negotiates nothing, with python websockets and a raw offer",
  ignore: NO_PYTHON,
  async fn() {
    await using server = await startServer(["--no-deflate"]);
    const raw = await openRawClient(server.port, "/broadcast");
    try {
      assert.doesNotMatch(raw.head, /Sec-WebSocket-Extensions/i);
      await server.waitForLine(/#1 .*opened \/broadcast$/);
      assert.deepEqual(await runPython(server.port), { echo: [], broadcast: [], ok: true });
      const frame = await raw.firstFrame();
      assert.equal(frame.byte0, 0x81, "FIN and text, no RSV1");
      assert.equal(frame.length, BIG.length);
    } finally {
      raw.close();
    }
    assert.equal(server.countLines(/\(compressed\)/), 0);
    assert.equal((await server.interrupt()).code, 0);
  },
});

Deno.test("ws_server.ts --deflate-threshold and --deflate-level: a message below the threshold goes plain", async () => {
  await using server = await startServer(["--deflate-threshold", "5000", "--deflate-level", "9"]);
  const raw = await openRawClient(server.port, "/broadcast");
  const sender = new WebSocket(`ws://127.0.0.1:${server.port}/broadcast`);
  try {
    await new Promise((resolve, reject) => {
      sender.onopen = resolve;
      sender.onerror = reject;
    });
    sender.send(BIG); // 3800 bytes: below 5000
    const frame = await raw.firstFrame();
    assert.equal(frame.byte0, 0x81);
    assert.equal(frame.length, BIG.length);
  } finally {
    raw.close();
    const closed = new Promise((resolve) => sender.onclose = resolve);
    sender.close();
    await closed;
  }
  const bad = await startScript("ws_server.ts", ["--deflate-level", "10"], {
    waitForListening: false,
  });
  assert.equal((await bad.child.status).code, 2);
  await bad[Symbol.asyncDispose]();
});

Deno.test("ws_server.ts works for the runtime's WebSocket with compression on, whatever it offers", async () => {
  await using server = await startServer();
  const base = `ws://127.0.0.1:${server.port}`;
  const echo = new WebSocket(`${base}/echo`);
  const closed = new Promise((resolve) => echo.onclose = resolve);
  try {
    await new Promise((resolve, reject) => {
      echo.onopen = resolve;
      echo.onerror = reject;
    });
    for (const message of ["small", BIG]) {
      const next = new Promise((resolve) => echo.onmessage = (event) => resolve(event.data));
      echo.send(message);
      assert.equal(await next, message);
    }
    const line = await server.waitForLine(/opened \/echo/);
    // The runtime's client offers no extensions today (denoland/deno#7681); if it ever does,
    // the server's log line and ws.extensions must agree.
    assert.equal(line.includes("(compressed)"), echo.extensions.includes("permessage-deflate"));
  } finally {
    echo.close();
    await closed;
  }
});

async function chromiumRun(port: number) {
  await using browser = await launchChromium();
  const page = await browser.newPage();
  // The server's own page: its Origin is the server's host:port, which the policy accepts.
  await page.navigate(`http://127.0.0.1:${port}/`);
  return await page.evaluate<{ extensions: string[]; echoed: boolean; broadcast: boolean }>(`
    new Promise((resolve, reject) => {
      const open = (path) => new Promise((ok, fail) => {
        const ws = new WebSocket("ws://" + location.host + path);
        ws.onopen = () => ok(ws);
        ws.onerror = () => fail(new Error("WebSocket error on " + path));
      });
      const next = (ws) => new Promise((ok) => ws.addEventListener("message", (e) => ok(e.data), { once: true }));
      const big = ${JSON.stringify(BIG)};
      (async () => {
        const echo = await open("/echo");
        echo.send(big);
        const echoed = (await next(echo)) === big;
        const a = await open("/broadcast"), b = await open("/broadcast");
        a.send(big);
        const broadcast = (await next(b)) === big;
        const extensions = [echo.extensions, a.extensions, b.extensions];
        for (const ws of [echo, a, b]) ws.close(1000);
        resolve({ extensions, echoed, broadcast });
      })().catch(reject);
    })
  `);
}

Deno.test({
  name: "ws_server.ts negotiates permessage-deflate with Chromium on /echo and /broadcast",
  ignore: NO_CHROMIUM,
  async fn() {
    await using server = await startServer();
    const agreed = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    assert.deepEqual(await chromiumRun(server.port), {
      extensions: [agreed, agreed, agreed],
      echoed: true,
      broadcast: true,
    });
    await server.waitForLine(/opened \/broadcast \(compressed\)/, 10_000, 2);
  },
});

Deno.test({
  name: "ws_server.ts --no-deflate: Chromium's WebSocket gets no extension",
  ignore: NO_CHROMIUM,
  async fn() {
    await using server = await startServer(["--no-deflate"]);
    assert.deepEqual(await chromiumRun(server.port), {
      extensions: ["", "", ""],
      echoed: true,
      broadcast: true,
    });
  },
});

const PYTHON_CHAT_CLIENT = `
import asyncio, json, sys
from websockets.client import connect

async def main(port):
    async with connect(f"ws://127.0.0.1:{port}/chat") as ws:
        extensions = ws.protocol.extensions if hasattr(ws, "protocol") else ws.extensions
        greeting = await asyncio.wait_for(ws.recv(), 10)
        print(json.dumps({"extensions": [e.name for e in extensions], "greeted": "Pick a nick" in greeting}), flush=True)

asyncio.run(main(int(sys.argv[1])))
`;

for (const args of [[], ["--no-deflate"]]) {
  const on = args.length === 0;
  Deno.test({
    name: `chat_server.ts ${
      on
        ? "agrees permessage-deflate on its web port"
        : "--no-deflate negotiates nothing on its web port"
    } (python websockets, a raw offer)`,
    ignore: NO_PYTHON,
    async fn() {
      await using server = await startScript("chat_server.ts", [
        "--port",
        "0",
        "--http-port",
        "0",
        ...args,
      ]);
      const web = await server.waitForLine(/^listening on http:\/\//);
      const port = Number(web.match(/:(\d+)\/$/)![1]);
      const raw = await openRawClient(port, "/chat");
      try {
        assert.equal(/\r\nSec-WebSocket-Extensions: permessage-deflate;/i.test(raw.head), on);
      } finally {
        raw.close();
      }
      const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
        args: ["-W", "ignore", "-c", PYTHON_CHAT_CLIENT, String(port)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, decoder.decode(stderr));
      assert.deepEqual(JSON.parse(decoder.decode(stdout)), {
        extensions: on ? ["permessage-deflate"] : [],
        greeted: true,
      });
    },
  });
}
