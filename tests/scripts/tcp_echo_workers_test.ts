import assert from "node:assert/strict";
import { join } from "node:path";
import { WORKERS_SUPPORTED } from "../../lib/net/worker_pool.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { ROOT, runScript, startScript } from "../helpers/script_process.ts";

/** What --workers needs besides the network: reusePort and reading the code in each worker. */
const WORKER_FLAGS = [
  "--unstable-net",
  "--allow-net=127.0.0.1",
  `--allow-read=${join(ROOT, "scripts")},${join(ROOT, "lib")}`,
];

Deno.test({
  name: "tcp_echo_server.ts --workers 2 echoes on both workers and stops them with one summary",
  ignore: !WORKERS_SUPPORTED,
  async fn() {
    await using server = await startScript(
      "tcp_echo_server.ts",
      ["--port", "0", "--workers", "2", "--verbose"],
      {
        denoFlags: WORKER_FLAGS,
      },
    );
    // Each worker prefixes its log lines (--verbose logs each connection); connect until both
    // have served someone.
    const both = () =>
      server.countLines(/^\[w0\].*connected/) > 0 && server.countLines(/^\[w1\].*connected/) > 0;
    let served = 0;
    while (served < 200 && !both()) {
      {
        await using client = await ChatLineClient.connect(server.port);
        await client.send(`hello ${served}`);
        assert.equal(await client.next(), `hello ${served}`);
      }
      served++;
      await server.waitForLine(/closed after echoing/, undefined, served);
    }
    assert.equal(server.countLines(/listening on /), 1, "one listening line for all workers");
    const status = await server.interrupt();
    assert.equal(status.code, 0);
    const summaries = server.stderr.filter((line) => /shut down:/.test(line));
    assert.equal(summaries.length, 1);
    assert.match(summaries[0]!, new RegExp(`2 workers served ${served} connections`));
  },
});

Deno.test("tcp_echo_server.ts --workers refuses a bad count with exit 2", async () => {
  const bad = await runScript("tcp_echo_server.ts", ["--workers", "two"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--workers two: expected 1 to 256, or 0 or auto/);
});

Deno.test({
  name: "tcp_echo_server.ts --workers without read access to its code says which flag to add",
  ignore: !WORKERS_SUPPORTED,
  async fn() {
    const unread = await runScript("tcp_echo_server.ts", ["--port", "0", "--workers", "2"], {
      denoFlags: ["--unstable-net", "--allow-net=127.0.0.1"],
    });
    assert.equal(unread.code, 1);
    assert.match(unread.stderr, /loads its code from disk: run with --allow-read=/);
  },
});
