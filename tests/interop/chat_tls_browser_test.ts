// The chat's page over https:// in headless Chromium (with --ignore-certificate-errors, which the
// test certificate needs and which is used for loopback only): the page opens its WebSocket over
// wss://, agrees permessage-deflate, and chats with a TLS line client; a long line reaches the
// browser compressed and intact.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { parseListeningLine } from "../../lib/net/net_addr.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { startScript } from "../helpers/script_process.ts";

const NO_CHROMIUM = await missingTool("chromium", ["--version"]);
const FIXTURES = join(import.meta.dirname!, "..", "fixtures");

/** A line client over TLS that trusts the test CA, reading lines until one matches. */
async function connectTlsLines(port: number) {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [await Deno.readTextFile(join(FIXTURES, "ca.crt"))],
  });
  const reader = new ChunkReader(conn);
  const lines = new LineDecoder({ maxLineLength: 65_536 });
  return {
    send: (line: string) => writeAll(conn, new TextEncoder().encode(line + "\n")),
    async waitFor(pattern: RegExp): Promise<string> {
      for (;;) {
        for (let line; (line = lines.next()) !== null;) if (pattern.test(line)) return line;
        const chunk = await reader.read();
        if (chunk === null) throw new Error(`closed before a line matching ${pattern}`);
        lines.push(chunk);
      }
    },
    close: () => closeQuietly(conn),
  };
}

Deno.test({
  name:
    "chat page over https:// in Chromium: wss:// with permessage-deflate, chatting with a TLS line client",
  ignore: NO_CHROMIUM,
  async fn() {
    await using server = await startScript("chat_server.ts", [
      "--port",
      "0",
      "--http-port",
      "0",
      "--tls-cert",
      join(FIXTURES, "localhost.crt"),
      "--tls-key",
      join(FIXTURES, "localhost.key"),
    ], { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${FIXTURES}`] });
    const web = parseListeningLine(await server.waitForLine(/^listening on https:/))!;
    await using browser = await launchChromium({ args: ["--ignore-certificate-errors"] });
    const page = await browser.newPage();
    await page.navigate(`https://127.0.0.1:${web.port}/`);
    await page.waitFor(`document.getElementById("state").dataset.state === "online"`);
    assert.equal(await page.evaluate(`location.protocol`), "https:");
    await page.type("#input", "alice");
    await page.pressEnter();
    await page.waitFor(`document.getElementById("me").textContent === "as alice"`);

    const bob = await connectTlsLines(server.port);
    try {
      await bob.waitFor(/Pick a nick/);
      await bob.send("bob");
      await bob.waitFor(/You are bob/);
      const long = "compressible words ".repeat(150).trim(); // 2849 bytes: above the threshold
      await bob.send(long);
      await page.waitFor(
        `[...document.querySelectorAll("#log li")].some((li) => li.textContent.endsWith(${
          JSON.stringify(long)
        }))`,
      );
      await page.type("#input", "hi bob, over wss");
      await page.pressEnter();
      assert.match(await bob.waitFor(/<alice>/), /<alice> hi bob, over wss$/);
    } finally {
      bob.close();
    }

    // A second WebSocket from the page itself shows what the chat agreed with Chromium.
    const extensions = await page.evaluate<string>(`
      new Promise((resolve, reject) => {
        const ws = new WebSocket("wss://" + location.host + "/chat");
        ws.onopen = () => { resolve(ws.extensions); ws.close(1000); };
        ws.onerror = () => reject(new Error("wss:// failed"));
      })
    `);
    assert.equal(
      extensions,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    );
    assert.deepEqual(page.console.filter((line) => /uncaught/i.test(line)), []);
  },
});
