// The page at GET / of scripts/ws_server.ts in a real browser (under its Content-Security-Policy): headless Chromium, driven over
// the DevTools protocol with the runtime's own WebSocket, connects to /echo and gets its echo.
// The browser sends Origin: http://127.0.0.1:PORT, which the default Origin policy accepts.
import assert from "node:assert/strict";
import { missingTool } from "../helpers/external_tool.ts";
import { startScript } from "../helpers/script_process.ts";

const NO_CHROMIUM = await missingTool("chromium", ["--version"]);

/** A minimal DevTools protocol client: numbered commands with replies matched by id, events. */
class DevTools implements Disposable {
  #ws: WebSocket;
  #nextId = 1;
  #waiting = new Map<number, (reply: { result?: unknown; error?: unknown }) => void>();
  #eventWaiters: { method: string; resolve: () => void }[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id === undefined) {
        for (const waiter of this.#eventWaiters.filter((w) => w.method === message.method)) {
          this.#eventWaiters.splice(this.#eventWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
        return;
      }
      this.#waiting.get(message.id)?.(message);
      this.#waiting.delete(message.id);
    };
  }

  /** Resolves at the next event named `method`; call before the command that causes it. */
  nextEvent(method: string): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#eventWaiters.push({ method, resolve });
    return promise;
  }

  static async connect(url: string): Promise<DevTools> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    return new DevTools(ws);
  }

  async send(method: string, params: object = {}, sessionId?: string): Promise<unknown> {
    const id = this.#nextId++;
    const { promise, resolve } = Promise.withResolvers<{ result?: unknown; error?: unknown }>();
    this.#waiting.set(id, resolve);
    this.#ws.send(JSON.stringify({ id, method, params, sessionId }));
    const reply = await promise;
    if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  [Symbol.dispose](): void {
    this.#ws.close();
  }
}

// The newcomer trial found that GET / sent no Content-Security-Policy while the chat page did:
// the page's inline script and style are now same-origin files, so the policy can refuse
// everything inline. The browser test below shows the page still works under it.
Deno.test("the ws_server page and its files carry a Content-Security-Policy", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0"]);
  for (
    const [path, type] of [
      ["/", "text/html"],
      ["/ws_server_page.js", "text/javascript"],
      ["/ws_server_page.css", "text/css"],
    ]
  ) {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
    const body = await response.text();
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get("content-type") ?? "", new RegExp(`^${type}`), path);
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/, path);
    assert.match(csp, /script-src 'self'/, path);
    assert.match(csp, /style-src 'self'/, path);
    assert.match(csp, /connect-src 'self'/, path);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
    if (path === "/") {
      // Nothing inline is left for the policy to block.
      assert.doesNotMatch(body, /<style|<script>|\son[a-z]+=/);
      assert.match(body, /<script src="ws_server_page.js" defer><\/script>/);
    }
  }
});

Deno.test(
  "the ws_server page echoes a message in headless Chromium",
  { ignore: NO_CHROMIUM },
  async () => {
    await using server = await startScript("ws_server.ts", ["--port", "0"]);
    const profile = await Deno.makeTempDir({ prefix: "ws_browser_test_" });
    const browser = new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-port=0",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      // Chromium prints "DevTools listening on ws://..." on stderr once it is ready.
      const lines = browser.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      let match: RegExpMatchArray | null = null;
      while (!(match = seen.match(/DevTools listening on (ws:\/\/\S+)/))) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`Chromium exited early:\n${seen}`);
        seen += value;
      }
      // Cancelling the decoded stream cancels stderr itself: Chromium's later output is dropped.
      await lines.cancel();
      using devtools = await DevTools.connect(match[1]!);
      const { targetId } = await devtools.send("Target.createTarget", {
        url: "about:blank",
      }) as { targetId: string };
      const { sessionId } = await devtools.send("Target.attachToTarget", {
        targetId,
        flatten: true,
      }) as { sessionId: string };
      await devtools.send("Page.enable", {}, sessionId);
      const loaded = devtools.nextEvent("Page.loadEventFired");
      await devtools.send("Page.navigate", { url: `http://127.0.0.1:${server.port}/` }, sessionId);
      await loaded;
      // The style sheet is a same-origin file now: its rules apply under `style-src 'self'`.
      const styled = await devtools.send("Runtime.evaluate", {
        expression: `getComputedStyle(document.getElementById("log")).whiteSpace`,
        returnByValue: true,
      }, sessionId) as { result: { value: string } };
      assert.equal(styled.result.value, "pre-wrap");
      // The page script: connect, send once open, and resolve with the log once the echo is in.
      const script = `new Promise((resolve, reject) => {
      const go = () => {
        document.getElementById("connect").click();
        const started = Date.now();
        const poll = () => {
          const log = document.getElementById("log").textContent;
          if (log.includes("open /echo") && !log.includes("> hello from chromium")) {
            document.getElementById("text").value = "hello from chromium";
            document.getElementById("form").requestSubmit();
          }
          if (log.includes("< hello from chromium")) return resolve(log);
          if (Date.now() - started > 10000) return reject(new Error("no echo: " + log));
          requestAnimationFrame(poll);
        };
        poll();
      };
      go();
    })`;
      const evaluated = await devtools.send("Runtime.evaluate", {
        expression: script,
        awaitPromise: true,
        returnByValue: true,
      }, sessionId) as { result: { value: string }; exceptionDetails?: unknown };
      assert.equal(
        evaluated.exceptionDetails,
        undefined,
        JSON.stringify(evaluated.exceptionDetails),
      );
      const { result } = evaluated;
      assert.match(result.value, /open \/echo\n> hello from chromium\n< hello from chromium/);
      await server.waitForLine(/opened \/echo/);
    } finally {
      browser.kill("SIGKILL");
      await browser.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
);
