// The chat's web page in a real browser: headless Chromium, driven over the DevTools protocol
// with the runtime's own WebSocket (tests/helpers/chromium.ts), chatting with raw TCP clients
// and `nc` in the same room of scripts/chat_server.ts. Screenshots go to tests/output/.
import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { startChatServer } from "../../lib/chat/chat_server.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { type ChromiumPage, launchChromium } from "../helpers/chromium.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { type ScriptProcess, startScript } from "../helpers/script_process.ts";

const NO_CHROMIUM = await missingTool("chromium", ["--version"]);
const NO_NC = await missingTool("nc", ["-h"]);

const OUTPUT_DIR = new URL("../output/", import.meta.url);
/** The exact flags of `deno task chat-server`. */
const SERVER_FLAGS = ["--allow-net=127.0.0.1"];

/** Starts scripts/chat_server.ts and returns it with its TCP and HTTP ports. */
async function startChat(
  httpPort = 0,
): Promise<{ server: ScriptProcess; tcpPort: number; httpPort: number }> {
  const server = await startScript("chat_server.ts", [
    "--port",
    "0",
    "--http-port",
    String(httpPort),
  ], { denoFlags: SERVER_FLAGS });
  const line = await server.waitForLine(/listening on http:\/\//);
  return { server, tcpPort: server.port, httpPort: Number(line.match(/:(\d+)\/$/)![1]) };
}

/** The text of every line of the page's chat log. */
function logLines(page: ChromiumPage): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll("#log li")].map((li) => li.textContent)`);
}

/** Waits until a line of the page's log matches `pattern` (a RegExp source); returns its text. */
function waitForLogLine(page: ChromiumPage, pattern: RegExp, timeoutMs?: number): Promise<string> {
  return page.waitFor<string>(
    `[...document.querySelectorAll("#log li")].map((li) => li.textContent)
      .find((text) => new RegExp(${JSON.stringify(pattern.source)}).test(text))`,
    timeoutMs,
  );
}

/** Types `text` into the page's input line and presses Enter. */
async function say(page: ChromiumPage, text: string): Promise<void> {
  await page.type("#input", text);
  await page.pressEnter();
}

/** Opens the chat page, waits until it is connected, and registers `nick`. */
async function openChat(page: ChromiumPage, httpPort: number, nick: string): Promise<void> {
  await page.navigate(`http://127.0.0.1:${httpPort}/`);
  await page.waitFor(`document.getElementById("state").dataset.state === "online"`);
  await say(page, nick);
  await page.waitFor(`document.getElementById("me").textContent === "as ${nick}"`);
  await page.waitFor(`document.getElementById("room").textContent === "#lobby"`);
}

/** The nicks the page lists as in the room. */
function whoList(page: ChromiumPage): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll("#who li")].map((li) => li.textContent)`);
}

Deno.test(
  "chat page in Chromium: a browser user and a raw TCP user chat in one room, and HTML shows as text",
  { ignore: NO_CHROMIUM },
  async () => {
    const { server, tcpPort, httpPort } = await startChat();
    await using _server = server;
    await using browser = await launchChromium();
    const page = await browser.newPage();
    await page.setViewport(390, 760, 2);
    await openChat(page, httpPort, "alice");

    await using bob = await ChatLineClient.connect(tcpPort, "bob");
    await page.waitFor(`[...document.querySelectorAll("#who li")].length === 2`);
    assert.deepEqual(await whoList(page), ["alice", "bob"]);

    // Browser → TCP: the raw client gets the line with a time stamp and the browser user's nick.
    await say(page, "hello from the browser");
    assert.match(
      await bob.waitFor(/<alice>/),
      /^\[\d\d:\d\d\] <alice> hello from the browser$/,
    );

    // TCP → browser: the line appears in the page's DOM, split into time, nick and text.
    await bob.send("hi alice, from a terminal");
    await waitForLogLine(page, /^\d\d:\d\d bob hi alice, from a terminal$/);
    const parts = await page.evaluate<string[]>(
      `(() => { const li = [...document.querySelectorAll("#log li")].at(-1);
      return [li.querySelector("time").textContent, li.querySelector(".nick").textContent]; })()`,
    );
    assert.match(parts[0]!, /^\d\d:\d\d$/);
    assert.equal(parts[1], "bob");

    // Markup from either side is text: no element is created and no handler runs. (The page's
    // Content-Security-Policy would also block the inline handler; the DOM check does not rely
    // on it.)
    const attack = `<img src=x onerror="window.__pwned=1;document.title='pwned'"><b>bold?</b>`;
    await bob.send(attack);
    const shown = await waitForLogLine(page, /onerror=/);
    assert.ok(shown.endsWith(attack), shown);
    await say(page, "<script>window.__pwned=2</script> <i>not italic</i>");
    assert.match(
      await bob.waitFor(/<alice> <script>/),
      /<alice> <script>window\.__pwned=2<\/script> <i>not italic<\/i>$/,
    );
    // A last round trip, so that an injected image would have had time to fail and fire onerror.
    await bob.send("ping");
    await waitForLogLine(page, /bob ping$/);
    assert.deepEqual(
      await page.evaluate(`({
      pwned: window.__pwned ?? null,
      title: document.title,
      injected: document.querySelectorAll("#log img, #log b, #log i, #log script").length,
    })`),
      { pwned: null, title: "#lobby \u2014 chat", injected: 0 },
    );

    // The same commands as on TCP.
    await say(page, "/who");
    await waitForLogLine(page, /^\*\*\* 2 in #lobby: alice, bob$/);
    await say(page, "/me waves");
    assert.match(await bob.waitFor(/\* alice/), /^\[\d\d:\d\d\] \* alice waves$/);
    await say(page, "/msg bob psst");
    assert.match(await bob.waitFor(/\*alice\*/), /\*alice\* psst$/);
    await bob.send("/join side");
    await page.waitFor(`[...document.querySelectorAll("#who li")].length === 1`);
    assert.deepEqual(await whoList(page), ["alice"]);

    await Deno.mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot(new URL("chat_browser.png", OUTPUT_DIR).pathname);
    assert.deepEqual(page.console.filter((line) => /uncaught/.test(line)), []);
  },
);

Deno.test(
  "chat page in Chromium reconnects with backoff after the server restarts on the same port",
  { ignore: NO_CHROMIUM },
  async () => {
    await using browser = await launchChromium();
    const page = await browser.newPage();
    const first = await startChat();
    let second: ScriptProcess | undefined;
    try {
      await openChat(page, first.httpPort, "alice");

      // Ctrl+C: the page is told, then closed with 1001, and starts retrying.
      assert.equal((await first.server.interrupt()).code, 0);
      await waitForLogLine(page, /^\*\*\* server shutting down$/);
      await waitForLogLine(page, /disconnected \(server shutting down\); reconnecting/);
      await page.waitFor(`document.getElementById("state").dataset.state === "offline"`);
      const lines = await logLines(page);
      assert.ok(
        lines.indexOf("*** server shutting down") <
          lines.findIndex((line) => line.includes("disconnected (server shutting down)")),
        "the shutdown line comes before the close",
      );

      // The server comes back on the same HTTP port; the page reconnects and registers again.
      ({ server: second } = await startChat(first.httpPort));
      const tcpPort = second.port;
      await page.waitFor(`document.getElementById("state").dataset.state === "online"`, 20_000);
      await page.waitFor(`document.getElementById("me").textContent === "as alice"`);
      await using bob = await ChatLineClient.connect(tcpPort, "bob");
      await bob.send("/who");
      assert.match(await bob.waitFor(/in #lobby/), /^\*\*\* 2 in #lobby: alice, bob$/);
      await say(page, "back again");
      assert.match(await bob.waitFor(/<alice>/), /<alice> back again$/);
    } finally {
      await first.server[Symbol.asyncDispose]();
      await second?.[Symbol.asyncDispose]();
    }
  },
);

Deno.test(
  "chat page in Chromium: a page from another origin is refused with 403, the chat's own page works",
  { ignore: NO_CHROMIUM },
  async () => {
    const logs: string[] = [];
    const chat = startChatServer({
      port: 0,
      httpPort: 0,
      logger: new Logger({ level: "info", write: (line) => logs.push(line) }),
    });
    // Another site: a page on another port that tries to join the chat in the visitor's name.
    const chatUrl = `ws://127.0.0.1:${chat.httpAddr!.port}/chat`;
    const evilPage = `<!doctype html><title>evil</title><script>
    const ws = new WebSocket(${JSON.stringify(chatUrl)});
    ws.onopen = () => { document.body.dataset.result = "open"; ws.send("mallory"); };
    ws.onclose = (event) => { document.body.dataset.result ??= "closed " + event.code; };
  </script><body>`;
    const evil = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(evilPage, { headers: { "Content-Type": "text/html" } }),
    );
    try {
      await using browser = await launchChromium();
      const page = await browser.newPage();
      await page.send("Log.enable");
      // Chromium reports the refused handshake, with its status, in its log.
      const logged = page.waitForEvent(
        "Log.entryAdded",
        (params) => /WebSocket/.test((params.entry as { text: string }).text),
      );
      await page.navigate(`http://127.0.0.1:${evil.addr.port}/`);
      assert.equal(await page.waitFor(`document.body.dataset.result`), "closed 1006");
      assert.match(
        ((await logged).entry as { text: string }).text,
        /Unexpected response code: 403/,
      );
      assert.ok(
        logs.some((line) =>
          line.includes(
            `refused with 403: Cannot upgrade: origin http://127.0.0.1:${evil.addr.port} is not allowed`,
          )
        ),
        logs.join("\n"),
      );
      assert.equal(chat.hub.sessionFor("mallory"), undefined);

      // The chat's own page, same browser: Origin http://127.0.0.1:PORT matches the Host.
      await openChat(page, chat.httpAddr!.port, "alice");
      assert.equal(chat.hub.sessionFor("alice")?.room, "lobby");
    } finally {
      await evil.shutdown();
      await chat.shutdown();
    }
  },
);

Deno.test("chat page in Chromium: a conversation with an nc user, saved as a screenshot", {
  ignore: NO_CHROMIUM || NO_NC,
}, async () => {
  const { server, tcpPort, httpPort } = await startChat();
  await using _server = server;
  await using browser = await launchChromium();
  const page = await browser.newPage();
  await page.setViewport(390, 700, 2);
  await openChat(page, httpPort, "alice");

  // nc -N sends its stdin, half-closes at EOF, and prints what the server sends until it closes.
  const nc = new Deno.Command("nc", {
    args: ["-N", "127.0.0.1", String(tcpPort)],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const output = nc.output();
  const ncSays = (line: string) => writer.write(new TextEncoder().encode(line + "\n"));
  const writer = nc.stdin.getWriter();
  try {
    await ncSays("bob");
    await waitForLogLine(page, /\*\*\* bob joined #lobby/);
    await ncSays("hi alice! I'm in a terminal, with nc");
    await waitForLogLine(page, /bob hi alice! I'm in a terminal, with nc$/);
    await say(page, "hello bob \u2014 same room, from the browser");
    await ncSays("does markup work here? <b>bold</b> <img src=x onerror=alert(1)>");
    await waitForLogLine(page, /onerror=alert\(1\)>$/);
    await say(page, "no: everything shows as text");
    await say(page, "/me waves");
    await ncSays("/me waves back");
    await waitForLogLine(page, /\* bob waves back$/);
    await ncSays("/msg alice this one is just for you");
    await waitForLogLine(page, /\*bob\* this one is just for you$/);
    await say(page, "/who");
    await waitForLogLine(page, /^\*\*\* 2 in #lobby: alice, bob$/);
    await Deno.mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot(new URL("chat_page.png", OUTPUT_DIR).pathname);
  } finally {
    await writer.close().catch(() => {});
  }
  // nc saw the browser user's lines.
  const { stdout } = await output;
  const text = new TextDecoder().decode(stdout);
  assert.match(text, /\[\d\d:\d\d\] <alice> hello bob \u2014 same room, from the browser\n/u);
  assert.match(text, /\[\d\d:\d\d\] \* alice waves\n/);
});
