// Issue 10, end to end: the HTTP fronts of scripts/ws_server.ts and the web port of
// scripts/chat_server.ts under faults, as processes, with raw requests on loopback (no name is
// ever resolved and nothing leaves 127.0.0.1): 503 with Retry-After when full, for Python's
// websockets too; 400 at once with advice for a real TLS ClientHello; the Host check against
// DNS rebinding and --allow-host.
import assert from "node:assert/strict";
import { missingTool } from "../helpers/external_tool.ts";
import { type ScriptProcess, startScript } from "../helpers/script_process.ts";

const NO_PYTHON_WEBSOCKETS = await missingTool("/usr/bin/python3", [
  "-c",
  "import websockets.client",
]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A bound on waits that would otherwise hang the test on a regression. */
const ANSWER_MS = 20_000;

/** Sends `request` on a new connection and returns all the server sent until it closed. */
async function exchange(port: number, request: string | Uint8Array): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(typeof request === "string" ? encoder.encode(request) : request);
  const guard = setTimeout(() => conn.close(), ANSWER_MS);
  let text = "";
  try {
    const buffer = new Uint8Array(4096);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
    throw new Error(`No answer within ${ANSWER_MS} ms; got: ${JSON.stringify(text)}`);
  } finally {
    clearTimeout(guard);
  }
  return text;
}

/** Sends `request` and returns the status line of the answer (enough for a 101). */
async function statusLine(port: number, request: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(request));
  let text = "";
  const buffer = new Uint8Array(4096);
  while (!text.includes("\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text.split("\r\n")[0]!;
}

function pageRequest(host: string): string {
  return `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
}

function upgradeRequest(path: string, host: string, origin?: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n` +
    (origin ? `Origin: ${origin}\r\n` : "") +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

/** Opens a runtime WebSocket and waits until it is open (so the server holds the connection). */
async function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  const { promise, resolve, reject } = Promise.withResolvers<WebSocket>();
  ws.onopen = () => resolve(ws);
  ws.onerror = (event) => reject(new Error((event as ErrorEvent).message));
  return await promise;
}

async function closeSocket(ws: WebSocket): Promise<void> {
  const closed = new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
  if (ws.readyState !== WebSocket.CLOSED) ws.close(1000);
  await closed;
}

/**
 * The ClientHello the runtime's own TLS client sends: `Deno.connectTls` to a listener that
 * records the first TLS record and closes.
 */
async function captureClientHello(): Promise<Uint8Array> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tls = await Deno.connectTls({ hostname: "127.0.0.1", port: listener.addr.port });
  const handshake = tls.handshake().catch(() => {});
  try {
    using server = await listener.accept();
    let bytes = new Uint8Array(0);
    const buffer = new Uint8Array(16_384);
    // A TLS record: type (1), version (2), length (2), then that many bytes.
    while (bytes.length < 5 || bytes.length < 5 + ((bytes[3]! << 8) | bytes[4]!)) {
      const n = await server.read(buffer);
      if (n === null) throw new Error("The TLS client closed before its ClientHello");
      bytes = new Uint8Array([...bytes, ...buffer.subarray(0, n)]);
    }
    return bytes;
  } finally {
    await handshake;
    tls.close();
  }
}

/** Starts chat_server.ts on free ports; `web` is the port of its web side. */
async function startChat(args: string[]): Promise<ScriptProcess & { web: number }> {
  const chat = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0", ...args]);
  try {
    const line = await chat.waitForLine(/^listening on http:\/\//);
    return Object.assign(chat, { web: Number(/:(\d+)\/$/.exec(line)![1]) });
  } catch (error) {
    await chat[Symbol.asyncDispose]();
    throw error;
  }
}

const PYTHON_CLIENT = `
import asyncio, sys
from websockets.client import connect

async def main(url):
    try:
        async with connect(url, open_timeout=10):
            print("opened")
    except Exception as error:
        response = getattr(error, "response", None)
        print(type(error).__name__, getattr(error, "status_code", None) or getattr(response, "status_code", None))

asyncio.run(main(sys.argv[1]))
`;

async function pythonConnect(url: string): Promise<string> {
  const output = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", PYTHON_CLIENT, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return decoder.decode(output.stdout).trim() + decoder.decode(output.stderr);
}

const BUSY_503 =
  /^HTTP\/1\.1 503 Service Unavailable\r\nRetry-After: 7\r\n[^]*\r\n\r\nServer busy \(too many connections\), try again later\n$/;

// Regression (issue 10, section 2): at --max-connections the refusal was a raw text line, so
// browsers and WebSocket libraries saw a broken HTTP response.
Deno.test("ws_server.ts at --max-connections answers every client HTTP 503 with Retry-After", async () => {
  await using server = await startScript("ws_server.ts", [
    "--port",
    "0",
    "--max-connections",
    "1",
    "--retry-after",
    "7",
  ]);
  const held = await openSocket(`ws://127.0.0.1:${server.port}/echo`);
  try {
    // However full: a burst of refused clients at once, each gets the whole 503.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => exchange(server.port, pageRequest("127.0.0.1"))),
    );
    for (const answer of answers) assert.match(answer, BUSY_503);
  } finally {
    await closeSocket(held);
  }
});

Deno.test({
  name: "ws_server.ts at --max-connections: Python's websockets sees HTTP 503",
  ignore: NO_PYTHON_WEBSOCKETS,
  async fn() {
    await using server = await startScript("ws_server.ts", [
      "--port",
      "0",
      "--max-connections",
      "1",
    ]);
    const held = await openSocket(`ws://127.0.0.1:${server.port}/echo`);
    try {
      assert.equal(
        await pythonConnect(`ws://127.0.0.1:${server.port}/echo`),
        "InvalidStatusCode 503",
      );
    } finally {
      await closeSocket(held);
    }
  },
});

Deno.test("chat_server.ts web port at --max-clients answers HTTP 503 with Retry-After, page and WebSocket", async () => {
  await using chat = await startChat(["--max-clients", "1", "--retry-after", "7"]);
  // A browser user holds the one place: the web listener is full, every request gets 503.
  const held = await openSocket(`ws://127.0.0.1:${chat.web}/chat`);
  try {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => exchange(chat.web, pageRequest("127.0.0.1"))),
    );
    for (const answer of answers) {
      assert.match(
        answer,
        /^HTTP\/1\.1 503 Service Unavailable\r\nRetry-After: 7\r\n[^]*\r\n\r\nThe chat is full, try again later\n$/,
      );
    }
    if (!NO_PYTHON_WEBSOCKETS) {
      assert.equal(
        await pythonConnect(`ws://127.0.0.1:${chat.web}/chat`),
        "InvalidStatusCode 503",
      );
    }
  } finally {
    await closeSocket(held);
  }
});

Deno.test("chat_server.ts: with an nc user in the one place, the page loads and the upgrade gets 503", async () => {
  await using chat = await startChat(["--max-clients", "1", "--retry-after", "7"]);
  using nc = await Deno.connect({ hostname: "127.0.0.1", port: chat.port });
  await nc.write(encoder.encode("alice\n"));
  await chat.waitForLine(/connected \(1 online\)/);
  assert.match(await statusLine(chat.web, pageRequest(`127.0.0.1:${chat.web}`)), / 200 OK$/);
  const refused = await exchange(chat.web, upgradeRequest("/chat", `127.0.0.1:${chat.web}`));
  assert.match(
    refused,
    /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*Retry-After: 7\r\n[^]*The chat is full, try again later\n$/,
  );
});

// Regression (issue 10, section 4): a TLS ClientHello got a bare 400 (and before that, 408
// after the head timeout); the client is now told what this port speaks and which flag
// serves TLS. --handshake-timeout 300: a 408 would come much later than ANSWER_MS.
Deno.test("ws_server.ts answers a real TLS ClientHello with 400 at once, advising --tls-cert", async () => {
  await using server = await startScript("ws_server.ts", [
    "--port",
    "0",
    "--handshake-timeout",
    "300",
  ]);
  const answer = await exchange(server.port, await captureClientHello());
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.ok(
    answer.endsWith(
      "\r\n\r\nMalformed request line: byte 0x16 at offset 0 (a TLS handshake?): " +
        "this port speaks plain HTTP; for TLS start the server with --tls-cert\n",
    ),
    answer,
  );
  // And the runtime's TLS client itself fails at once instead of waiting.
  const tls = await Deno.connectTls({ hostname: "127.0.0.1", port: server.port });
  try {
    await assert.rejects(tls.handshake());
  } finally {
    tls.close();
  }
  await server.waitForLine(/refused with 400: .*for TLS start the server with --tls-cert/);
});

Deno.test("chat_server.ts web port answers a real TLS ClientHello with 400 at once: plain HTTP", async () => {
  await using chat = await startChat([]);
  const answer = await exchange(chat.web, await captureClientHello());
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(answer, /\(a TLS handshake\?\): this port speaks plain HTTP\n$/);
});

// Regression (issue 10, section 4): DNS rebinding. A page on http://rebind.test:PORT whose
// name resolves to 127.0.0.1 sends Host and Origin that agree, so the Origin check passed.
for (
  const [script, endpoint] of [["ws_server.ts", "/echo"], ["chat_server.ts", "/chat"]] as const
) {
  const start = async (args: string[]) => {
    if (script === "chat_server.ts") {
      const chat = await startChat(args);
      return { process: chat, port: chat.web };
    }
    const ws = await startScript(script, ["--port", "0", ...args]);
    return { process: ws, port: ws.port };
  };

  Deno.test(`${script} refuses Host: rebind.test with 403 naming --allow-host, even with a matching Origin`, async () => {
    const { process, port } = await start([]);
    await using _ = process;
    const rebind = `rebind.test:${port}`;
    const reason = new RegExp(
      `^HTTP/1\\.1 403 Forbidden\\r\\n[^]*Cannot serve host "rebind\\.test:${port}": it does ` +
        "not name this server \\(start the server with --allow-host rebind\\.test to allow it\\)\\n$",
    );
    assert.match(await exchange(port, pageRequest(rebind)), reason);
    assert.match(
      await exchange(port, upgradeRequest(endpoint, rebind, `http://${rebind}`)),
      reason,
    );
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      assert.match(await statusLine(port, pageRequest(host)), / 200 OK$/, host);
      assert.match(
        await statusLine(port, upgradeRequest(endpoint, host, `http://${host}`)),
        / 101 Switching Protocols$/,
        host,
      );
    }
    assert.match(
      await exchange(port, "GET / HTTP/1.1\r\n\r\n"),
      /^HTTP\/1\.1 400 [^]*Missing Host/,
    );
  });

  Deno.test(`${script} --allow-host rebind.test serves that name, page and WebSocket`, async () => {
    const { process, port } = await start(["--allow-host", "rebind.test"]);
    await using _ = process;
    const rebind = `rebind.test:${port}`;
    assert.match(await statusLine(port, pageRequest(rebind)), / 200 OK$/);
    assert.match(
      await statusLine(port, upgradeRequest(endpoint, rebind, `http://${rebind}`)),
      / 101 Switching Protocols$/,
    );
    assert.match(await statusLine(port, pageRequest(`other.test:${port}`)), / 403 Forbidden$/);
  });
}
