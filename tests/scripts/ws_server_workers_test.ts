import assert from "node:assert/strict";
import { join } from "node:path";
import { WORKERS_SUPPORTED } from "../../lib/net/worker_pool.ts";
import { ROOT, startScript } from "../helpers/script_process.ts";

/** What --workers needs besides the network: reusePort and reading the code in each worker. */
const WORKER_FLAGS = [
  "--unstable-net",
  "--allow-net=127.0.0.1",
  `--allow-read=${join(ROOT, "scripts")},${join(ROOT, "lib")}`,
];

/** Opens a runtime WebSocket, collecting its text messages, and waits for it to be open. */
async function openCollecting(url: string): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(url);
  const got: string[] = [];
  ws.onmessage = (event) => got.push(String(event.data));
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  ws.onopen = () => resolve();
  ws.onerror = (event) => reject(new Error((event as ErrorEvent).message));
  await promise;
  return { ws, got };
}

Deno.test({
  name: "ws_server.ts --workers 2: /broadcast reaches clients on every worker",
  ignore: !WORKERS_SUPPORTED,
  async fn() {
    await using server = await startScript("ws_server.ts", ["--port", "0", "--workers", "2"], {
      denoFlags: WORKER_FLAGS,
    });
    const url = `ws://127.0.0.1:${server.port}/broadcast`;
    const clients: { ws: WebSocket; got: string[] }[] = [];
    const closed: Promise<void>[] = [];
    try {
      const on = (worker: number) => server.countLines(new RegExp(`^\\[w${worker}\\].*opened`));
      while (clients.length < 200 && (on(0) === 0 || on(1) === 0)) {
        const client = await openCollecting(url);
        clients.push(client);
        closed.push(new Promise((resolve) => client.ws.addEventListener("close", () => resolve())));
        await server.waitForLine(/opened \/broadcast/, undefined, clients.length);
      }
      assert.ok(on(0) > 0 && on(1) > 0, "clients on both workers");
      const received = clients.slice(1).map(({ ws }) =>
        new Promise<string>((resolve) =>
          ws.addEventListener("message", (event) => resolve(String(event.data)), { once: true })
        )
      );
      clients[0]!.ws.send("to everyone");
      assert.deepEqual(await Promise.all(received), clients.slice(1).map(() => "to everyone"));
      assert.deepEqual(clients[0]!.got, [], "not back to the sender");
    } finally {
      for (const { ws } of clients) ws.close(1000);
      await Promise.all(closed);
    }
    const status = await server.interrupt();
    assert.equal(status.code, 0);
    const summaries = server.stderr.filter((line) => /shut down:/.test(line));
    assert.equal(summaries.length, 1);
    assert.match(summaries[0]!, /2 workers served \d+ connections?, 1 message/);
  },
});
