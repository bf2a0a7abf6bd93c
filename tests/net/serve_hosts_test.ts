import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { serveHosts } from "../../lib/net/serve_hosts.ts";
import { serveTcp, type TcpServer } from "../../lib/tcp/serve_tcp.ts";

const quiet = new Logger({ level: "error" });

function hello(hostname: string, port: number): TcpServer {
  return serveTcp(async (conn) => {
    await conn.write(new TextEncoder().encode(`hello from ${hostname}\n`));
  }, { hostname, port, logger: quiet });
}

async function greeting(hostname: string, port: number): Promise<string> {
  using conn = await Deno.connect({ hostname, port });
  const text = await new Response(conn.readable).text();
  return text;
}

Deno.test("serveHosts binds every host on the port the first one picked", async () => {
  await using group = await serveHosts(["127.0.0.1", "[::1]"], hello);
  const [v4, v6] = group.addrs;
  assert.equal(v4!.hostname, "127.0.0.1");
  assert.equal(v6!.hostname, "::1");
  assert.notEqual(v4!.port, 0);
  assert.equal(v6!.port, v4!.port);
  assert.equal(await greeting("127.0.0.1", v4!.port), "hello from 127.0.0.1\n");
  assert.equal(await greeting("::1", v4!.port), "hello from ::1\n");
});

Deno.test("serveHosts starts a repeated host once", async () => {
  await using group = await serveHosts(["127.0.0.1", "127.0.0.1"], hello);
  assert.equal(group.servers.length, 1);
});

Deno.test("serveHosts shuts down the servers it started when a later host cannot be bound", async () => {
  using taken = Deno.listen({ hostname: "::1", port: 0 });
  const port = taken.addr.port;
  const started: TcpServer[] = [];
  await assert.rejects(
    serveHosts(["127.0.0.1", "::1"], (hostname, p) => {
      const server = hello(hostname, p);
      started.push(server);
      return server;
    }, { port }),
    /address already in use/,
  );
  assert.equal(started.length, 1);
  assert.equal(started[0]!.closing, true);
  await started[0]!.finished;
});

Deno.test("serveHosts refuses an empty host list", async () => {
  await assert.rejects(serveHosts([], hello), RangeError);
});

Deno.test("ServerGroup.shutdown stops every server and resolves finished", async () => {
  const group = await serveHosts(["127.0.0.1", "::1"], hello);
  await group.shutdown();
  await group.finished;
  assert.ok(group.servers.every((server) => server.closing));
});
