import assert from "node:assert/strict";
import { join } from "node:path";
import { WORKERS_SUPPORTED } from "../../lib/net/worker_pool.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { NO_REDIS, startRedis } from "../helpers/redis_server.ts";
import { ROOT, type ScriptProcess, startScript } from "../helpers/script_process.ts";

/** What --workers needs besides the network: reusePort and reading the code in each worker. */
const WORKER_FLAGS = [
  "--unstable-net",
  "--allow-net=127.0.0.1",
  `--allow-read=${join(ROOT, "scripts")},${join(ROOT, "lib")}`,
];

/**
 * Connects clients until one landed on each of workers 0 and 1 (read from the `[wN]` log line
 * naming the client's port); returns those two and the extra ones to dispose of.
 */
async function oneOnEachWorker(
  server: ScriptProcess,
): Promise<{ on: [ChatLineClient, ChatLineClient]; extra: ChatLineClient[] }> {
  const on: (ChatLineClient | undefined)[] = [undefined, undefined];
  const extra: ChatLineClient[] = [];
  for (let i = 0; i < 200 && (on[0] === undefined || on[1] === undefined); i++) {
    const client = await ChatLineClient.connect(server.port);
    await client.waitFor(/Pick a nick/);
    const port = (client.conn.localAddr as Deno.NetAddr).port;
    const line = await server.waitForLine(new RegExp(`127\\.0\\.0\\.1:${port}\\b.*connected`));
    const worker = Number(/^\[w(\d)\]/.exec(line)?.[1]);
    if (on[worker] === undefined) on[worker] = client;
    else extra.push(client);
  }
  assert.ok(on[0] && on[1], "clients on both workers");
  return { on: [on[0], on[1]], extra };
}

Deno.test({
  name: "chat_server.ts --workers 2: one chat across workers (lines, /who, nicks, history, /msg)",
  ignore: !WORKERS_SUPPORTED,
  async fn() {
    await using server = await startScript(
      "chat_server.ts",
      ["--port", "0", "--http-port", "0", "--workers", "2"],
      { denoFlags: WORKER_FLAGS },
    );
    const { on: [alice, bob], extra } = await oneOnEachWorker(server);
    try {
      await alice.send("alice");
      await alice.waitFor(/\*\*\* alice joined #lobby \(1 here\)/);
      await alice.send("said before bob came");
      // /who is answered by the owner after it took the line: then it is in the history.
      await alice.send("/who");
      await alice.waitFor(/^\*\*\* 1 in #lobby: alice$/);
      await bob.send("ALICE");
      await bob.waitFor(/cannot use nick "ALICE": it is taken/);
      await bob.send("bob");
      // History kept by the main thread, joined from the other worker.
      await bob.waitFor(/\*\*\* Last 1 message in #lobby:/);
      await bob.waitFor(/<alice> said before bob came$/);
      await bob.waitFor(/\*\*\* bob joined #lobby \(2 here\)/);
      await alice.waitFor(/\*\*\* bob joined #lobby \(2 here\)/);
      await bob.send("hi alice");
      await alice.waitFor(/<bob> hi alice$/);
      await alice.send("/who");
      await alice.waitFor(/^\*\*\* 2 in #lobby: alice, bob$/);
      await bob.send("/msg alice psst");
      await alice.waitFor(/\*bob\* psst$/);
      await bob.waitFor(/-> \*alice\* psst$/);
    } finally {
      for (const client of [alice, bob, ...extra]) await client[Symbol.asyncDispose]();
    }
    const status = await server.interrupt();
    assert.equal(status.code, 0);
    const summaries = server.stderr.filter((line) => /shut down:/.test(line));
    assert.equal(summaries.length, 1);
    assert.match(summaries[0]!, /2 workers served \d+ connections, 3 messages/);
  },
});

Deno.test({
  name: "chat_server.ts --workers 2 --redis: each worker is one more server of the Redis chat",
  ignore: !WORKERS_SUPPORTED || NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await using server = await startScript(
      "chat_server.ts",
      ["--port", "0", "--http-port", "0", "--workers", "2", "--redis", redis.url],
      { denoFlags: WORKER_FLAGS },
    );
    const { on: [alice, bob], extra } = await oneOnEachWorker(server);
    try {
      await alice.send("alice");
      await alice.waitFor(/\*\*\* alice joined #lobby/);
      await bob.send("bob");
      await alice.waitFor(/\*\*\* bob joined #lobby \(2 here\)/);
      await bob.send("through redis");
      await alice.waitFor(/<bob> through redis$/);
    } finally {
      for (const client of [alice, bob, ...extra]) await client[Symbol.asyncDispose]();
    }
    assert.equal((await server.interrupt()).code, 0);
  },
});
