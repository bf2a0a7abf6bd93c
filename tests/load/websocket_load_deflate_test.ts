// runWebSocketLoad with perMessageDeflate against startWsServer: the compressed load runs with a
// server that agrees, and falls back to plain frames with one that declines (--no-deflate), as
// scripts/bench/bench_ws.ts --compression relies on.
import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { runWebSocketLoad } from "../../lib/load/websocket_load.ts";
import { startWsServer } from "../../lib/websocket/ws_server.ts";

const TEXT = JSON.stringify(Array.from({ length: 60 }, (_, i) => ({ id: i, text: `line ${i}` })));

for (const perMessageDeflate of [{}, false] as const) {
  const agrees = perMessageDeflate !== false;
  Deno.test(`runWebSocketLoad offers compression to a server that ${agrees ? "agrees" : "declines"}, echo and broadcast`, async () => {
    await using server = startWsServer({
      port: 0,
      perMessageDeflate,
      logger: new Logger({ write: () => {} }),
    });
    for (const mode of ["echo", "broadcast"] as const) {
      const result = await runWebSocketLoad({
        port: server.addr.port,
        mode,
        connections: 3,
        inFlight: 4,
        text: TEXT,
        perMessageDeflate: true,
        duration: 200,
        warmup: 50,
      });
      assert.equal(result.compressed, agrees, mode);
      assert.ok(result.messages > 0, mode);
    }
    assert.ok(server.stats.messages > 0);
  });
}
