import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { WorkerPool, WORKERS_SUPPORTED } from "../../lib/net/worker_pool.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";

const WORKER = new URL("../fixtures/pool_worker.ts", import.meta.url);

Deno.test({
  name: "WorkerPool spreads connections over its workers and restarts a crashed one",
  ignore: !WORKERS_SUPPORTED,
  async fn() {
    const logs: string[] = [];
    const restarted = Promise.withResolvers<number>();
    const pool = await WorkerPool.start(WORKER, {
      count: 2,
      port: 0,
      data: { greeting: "worker" },
      logger: new Logger({ level: "info", write: (line) => logs.push(line) }),
      onRestart: (index) => restarted.resolve(index),
    });
    const clients: ChatLineClient[] = [];
    try {
      // The kernel hashes each connection to one listener: a few dozen reach both (the
      // chance that 200 all land on one worker is 2^-199).
      const seen = new Map<string, ChatLineClient>();
      for (let i = 0; i < 200 && seen.size < 2; i++) {
        const client = await ChatLineClient.connect(pool.addr.port);
        clients.push(client);
        const greeting = await client.waitFor(/^worker \d gen 0$/);
        if (!seen.has(greeting)) seen.set(greeting, client);
      }
      assert.deepEqual([...seen.keys()].sort(), ["worker 0 gen 0", "worker 1 gen 0"]);

      await seen.get("worker 1 gen 0")!.send("crash");
      assert.equal(await restarted.promise, 1);
      assert.ok(
        logs.some((line) => /worker 1 crashed \(.*asked to crash.*\); restarting/.test(line)),
      );
      // Worker 0 kept serving its connection; the new worker 1 serves new ones.
      const survivor = seen.get("worker 0 gen 0")!;
      await survivor.send("still there?");
      let reborn = false;
      for (let i = 0; i < 200 && !reborn; i++) {
        const client = await ChatLineClient.connect(pool.addr.port);
        clients.push(client);
        reborn = /^worker 1 gen 1$/.test(await client.waitFor(/^worker \d gen \d$/));
      }
      assert.ok(reborn, "a new connection reached the restarted worker");
      assert.equal(pool.restarts, 1);
    } finally {
      for (const client of clients) await client[Symbol.asyncDispose]();
      const totals = await pool.shutdown();
      // One summary: the crashed worker's count is lost, the others are summed.
      assert.ok((totals.connections ?? 0) >= 2);
    }
  },
});

Deno.test({
  name: "WorkerPool.start fails with the listen error when the port is taken",
  ignore: !WORKERS_SUPPORTED,
  async fn() {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    await assert.rejects(
      WorkerPool.start(WORKER, { count: 2, port: taken.addr.port, data: { greeting: "w" } }),
      (error: Error) => {
        assert.equal(error.name, "WorkerStartError");
        assert.equal((error.cause as Error).name, "ListenError");
        assert.match(error.message, /address already in use/i);
        return true;
      },
    );
  },
});
