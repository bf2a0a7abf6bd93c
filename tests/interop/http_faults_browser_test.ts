// Headless Chromium against the library's HTTP refusals: a 503 from a full
// server is a page the browser shows, not "invalid response", and a page on a
// name that resolves to 127.0.0.1 (DNS rebinding, simulated with Chromium's
// --host-resolver-rules) is refused by checkHost although its Origin and Host
// agree. All traffic stays on 127.0.0.1.
import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { HttpError } from "../../lib/http/http_error.ts";
import { checkHost } from "../../lib/http/host_check.ts";
import { readRequestHead } from "../../lib/http/http_request_head.ts";
import { encodeHttpErrorResponse, encodeHttpResponse } from "../../lib/http/http_response.ts";
import { refuseWithServiceUnavailable } from "../../lib/http/service_unavailable.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { writeAndLinger } from "../../lib/io/write_and_linger.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { serveTcp, type TcpServer } from "../../lib/tcp/serve_tcp.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { startScript } from "../helpers/script_process.ts";

const HAS_CHROMIUM = !(await missingTool("chromium", ["--version"]));
const quiet = () => new Logger({ level: "error" });

/** A one-request HTTP server: checkHost, then a small page. */
function pageServer(): TcpServer {
  const server: TcpServer = serveTcp(async (conn) => {
    const request = await readRequestHead(new ChunkReader(conn), {
      signal: AbortSignal.timeout(10_000),
    }).catch((error) => error instanceof HttpError ? error : Promise.reject(error));
    if (request === null) return;
    let response;
    if (request instanceof HttpError) {
      response = encodeHttpErrorResponse(request);
    } else {
      try {
        checkHost(request.head.headers.get("host"), server.addr);
        response = encodeHttpResponse(200, {
          headers: { "Content-Type": "text/plain; charset=utf-8", Connection: "close" },
          body: "welcome\n",
        });
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        response = encodeHttpErrorResponse(error);
      }
    }
    await writeAndLinger(conn, response, { signal: AbortSignal.timeout(2_000) });
  }, { logger: quiet() });
  return server;
}

Deno.test({
  name:
    "Chromium: a page on a rebinding name gets 403 naming --allow-host; the bound address works",
  ignore: !HAS_CHROMIUM,
  async fn() {
    await using server = pageServer();
    const port = server.addr.port;
    await using browser = await launchChromium({
      args: ["--host-resolver-rules=MAP rebind.test 127.0.0.1"],
    });
    const page = await browser.newPage();
    await page.navigate(`http://rebind.test:${port}/`);
    const refused = await page.evaluate<string>("document.body.innerText");
    assert.match(refused, /Cannot serve host "rebind\.test:\d+".*--allow-host rebind\.test/);
    await page.navigate(`http://127.0.0.1:${port}/`);
    assert.equal(await page.evaluate<string>("document.body.innerText.trim()"), "welcome");
  },
});

Deno.test({
  name: "Chromium: a server over its limit answers 503 with the reason, shown as a page",
  ignore: !HAS_CHROMIUM,
  async fn() {
    const release = Promise.withResolvers<void>();
    await using server = serveTcp(async (conn) => {
      await writeAll(conn, new TextEncoder().encode("held\n"));
      await release.promise;
    }, {
      maxConnections: 1,
      logger: quiet(),
      refuse: refuseWithServiceUnavailable({ reason: "Server full (1 connection), try later" }),
    });
    try {
      using held = await Deno.connect({ port: server.addr.port });
      await new ChunkReader(held).read();
      await using browser = await launchChromium();
      const page = await browser.newPage();
      await page.navigate(`http://127.0.0.1:${server.addr.port}/`);
      assert.equal(
        await page.evaluate<string>("document.body.innerText.trim()"),
        "Server full (1 connection), try later",
      );
    } finally {
      release.resolve();
    }
  },
});

// The same, end to end against the real servers (issue 10): scripts/ws_server.ts at
// --max-connections, scripts/chat_server.ts's TCP port opened as a web page, and the chat's web
// port under DNS rebinding.

/** Opens a runtime WebSocket and waits until it is open (the server holds the connection). */
async function holdSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  const { promise, resolve, reject } = Promise.withResolvers<WebSocket>();
  ws.onopen = () => resolve(ws);
  ws.onerror = (event) => reject(new Error((event as ErrorEvent).message));
  return await promise;
}

async function release(ws: WebSocket): Promise<void> {
  const closed = new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
  if (ws.readyState !== WebSocket.CLOSED) ws.close(1000);
  await closed;
}

Deno.test({
  name: "Chromium: ws_server.ts at --max-connections shows the 503's reason",
  ignore: !HAS_CHROMIUM,
  async fn() {
    await using server = await startScript("ws_server.ts", [
      "--port",
      "0",
      "--max-connections",
      "1",
    ]);
    const held = await holdSocket(`ws://127.0.0.1:${server.port}/echo`);
    try {
      await using browser = await launchChromium();
      const page = await browser.newPage();
      await page.navigate(`http://127.0.0.1:${server.port}/`);
      assert.equal(
        await page.evaluate<string>("document.body.innerText.trim()"),
        "Server busy (too many connections), try again later",
      );
    } finally {
      await release(held);
    }
  },
});

Deno.test({
  name: "Chromium: chat_server.ts's TCP port, opened as a page, names the web page's URL",
  ignore: !HAS_CHROMIUM,
  async fn() {
    await using chat = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"]);
    const web = Number(
      /:(\d+)\/$/.exec(await chat.waitForLine(/^listening on http:\/\//))![1],
    );
    await using browser = await launchChromium({
      args: ["--host-resolver-rules=MAP rebind.test 127.0.0.1"],
    });
    const page = await browser.newPage();
    await page.navigate(`http://127.0.0.1:${chat.port}/`);
    assert.equal(
      await page.evaluate<string>("document.body.innerText.trim()"),
      "This port speaks the chat's line protocol (nc, telnet), not HTTP: " +
        `the web chat is at http://127.0.0.1:${web}/`,
    );
    // The web port under DNS rebinding: the page itself is refused, so no WebSocket follows.
    await page.navigate(`http://rebind.test:${web}/`);
    assert.match(
      await page.evaluate<string>("document.body.innerText"),
      /Cannot serve host "rebind\.test:\d+".*--allow-host rebind\.test/,
    );
  },
});

Deno.test({
  name: "Chromium: chat_server.ts's web port at --max-clients shows the 503's reason",
  ignore: !HAS_CHROMIUM,
  async fn() {
    await using chat = await startScript("chat_server.ts", [
      "--port",
      "0",
      "--http-port",
      "0",
      "--max-clients",
      "1",
    ]);
    const web = Number(
      /:(\d+)\/$/.exec(await chat.waitForLine(/^listening on http:\/\//))![1],
    );
    const held = await holdSocket(`ws://127.0.0.1:${web}/chat`);
    try {
      await using browser = await launchChromium();
      const page = await browser.newPage();
      await page.navigate(`http://127.0.0.1:${web}/`);
      assert.equal(
        await page.evaluate<string>("document.body.innerText.trim()"),
        "The chat is full, try again later",
      );
    } finally {
      await release(held);
    }
  },
});
