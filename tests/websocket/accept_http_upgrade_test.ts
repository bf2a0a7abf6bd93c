// acceptHttpUpgrade's options for servers under faults (issue 10): `hostCheck` refuses a Host
// that does not name the server, for pages and upgrades alike, and `tlsAdvice` words the 400
// that a TLS ClientHello gets at its first byte. Raw requests on 127.0.0.1 only.
import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { serveTcp, type TcpServer } from "../../lib/tcp/serve_tcp.ts";
import {
  acceptHttpUpgrade,
  type AcceptHttpUpgradeOptions,
} from "../../lib/websocket/accept_http_upgrade.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A front door with one page and one endpoint; upgraded sockets are closed at once. */
function frontDoor(options: (server: TcpServer) => AcceptHttpUpgradeOptions): TcpServer {
  const logger = new Logger({ level: "error" });
  const server: TcpServer = serveTcp(async (conn, ctx) => {
    const accepted = await acceptHttpUpgrade(conn, {
      pages: { "/": { headers: { Connection: "close" }, body: "page\n" } },
      endpoints: ["/ws"],
      signal: ctx.signal,
      logger,
      ...options(server),
    });
    if (accepted !== null) {
      accepted.ws.close(1000);
      await accepted.ws.closed;
    }
  }, { logger });
  return server;
}

/** Sends `request` and returns the status line of the answer. */
async function statusOf(port: number, request: string | Uint8Array): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(typeof request === "string" ? encoder.encode(request) : request);
  let text = "";
  const buffer = new Uint8Array(4096);
  for (let n; !text.includes("\r\n\r\n") && (n = await conn.read(buffer)) !== null;) {
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

const upgrade = (host: string) =>
  `GET /ws HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nUpgrade: websocket\r\n` +
  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

Deno.test("acceptHttpUpgrade with hostCheck: the server's own names pass, a rebinding name gets 403 naming the flag", async () => {
  await using server = frontDoor((server) => ({
    hostCheck: { bound: server.addr, allowedHosts: ["app.test"], flag: "--allow-host" },
  }));
  const port = server.addr.port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `app.test:${port}`]) {
    assert.match(await statusOf(port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`), / 200 OK\r\n/);
    assert.match(await statusOf(port, upgrade(host)), / 101 Switching Protocols\r\n/);
  }
  const rebind = `rebind.test:${port}`;
  assert.match(
    await statusOf(port, `GET / HTTP/1.1\r\nHost: ${rebind}\r\n\r\n`),
    /^HTTP\/1\.1 403 Forbidden\r\n/,
  );
  // Origin and Host agree, as on a rebinding page, and it is still refused.
  assert.match(await statusOf(port, upgrade(rebind)), /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.match(await statusOf(port, "GET / HTTP/1.1\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request\r\n/);
});

Deno.test("acceptHttpUpgrade without hostCheck serves any Host, as before", async () => {
  await using server = frontDoor(() => ({}));
  assert.match(
    await statusOf(server.addr.port, "GET / HTTP/1.1\r\nHost: rebind.test\r\n\r\n"),
    / 200 OK\r\n/,
  );
});

Deno.test("acceptHttpUpgrade answers a TLS record's first byte with 400 and tlsAdvice", async () => {
  // The start of a TLS 1.2 ClientHello record: the first byte is enough.
  const hello = new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]);
  for (
    const [tlsAdvice, wanted] of [
      [undefined, "this port speaks plain HTTP"],
      ["use --tls-cert", "use --tls-cert"],
    ] as const
  ) {
    await using server = frontDoor(() => ({ tlsAdvice, headTimeout: 300_000 }));
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(hello);
    let text = "";
    const buffer = new Uint8Array(4096);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      text += decoder.decode(buffer.subarray(0, n));
    }
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(text.endsWith(`(a TLS handshake?): ${wanted}\n`), text);
  }
});
