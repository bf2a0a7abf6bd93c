// The ws_server page in headless Chromium with tcp_proxy.ts --slice 1 --direction up in between:
// every byte the browser sends (the HTTP request, the WebSocket upgrade, the masked frames)
// reaches the server in its own write, and the page still gets its echo. Only the upload is
// sliced: the page itself, byte by byte at 1 ms a byte, would take tens of seconds to load.
import assert from "node:assert/strict";
import { launchChromium } from "../helpers/chromium.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { startScript } from "../helpers/script_process.ts";

const NO_CHROMIUM = await missingTool("chromium", ["--version"]);

Deno.test({
  name:
    "the ws_server page echoes in headless Chromium through tcp_proxy.ts --slice 1 --direction up",
  ignore: NO_CHROMIUM,
  async fn() {
    await using server = await startScript("ws_server.ts", ["--port", "0"]);
    await using proxy = await startScript("tcp_proxy.ts", [
      "--port",
      "0",
      "--to",
      `127.0.0.1:${server.port}`,
      "--slice",
      "1",
      "--direction",
      "up",
      "--json",
    ], { denoFlags: ["--allow-net=127.0.0.1"] });
    await using browser = await launchChromium();
    const page = await browser.newPage();
    await page.navigate(`http://127.0.0.1:${proxy.port}/`);
    const log = await page.evaluate<string>(
      `new Promise((resolve, reject) => {
      document.getElementById("connect").click();
      const started = Date.now();
      const poll = () => {
        const log = document.getElementById("log").textContent;
        if (log.includes("open /echo") && !log.includes("> sliced hello")) {
          document.getElementById("text").value = "sliced hello";
          document.getElementById("form").requestSubmit();
        }
        if (log.includes("< sliced hello")) return resolve(log);
        if (Date.now() - started > 20000) return reject(new Error("no echo: " + log));
        requestAnimationFrame(poll);
      };
      poll();
    })`,
      25_000,
    );
    assert.match(log, /open \/echo\n> sliced hello\n< sliced hello/);
    await browser.close();
    assert.equal((await proxy.interrupt()).code, 0);
    const { connections } = JSON.parse(proxy.stdout.at(-1)!);
    const upgrade = connections.find((c: { up: number }) => c.up > 0);
    assert.ok(upgrade, JSON.stringify(connections));
    for (const connection of connections) assert.equal(connection.upWrites, connection.up);
  },
});
