import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { HttpError } from "../../lib/http/http_error.ts";
import { readRequestHead } from "../../lib/http/http_request_head.ts";
import { encodeHttpErrorResponse, encodeHttpResponse } from "../../lib/http/http_response.ts";
import { checkHost, isAllowedHost, parseHost } from "../../lib/http/host_check.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { writeAndLinger } from "../../lib/io/write_and_linger.ts";
import { serveTcp } from "../../lib/tcp/serve_tcp.ts";
import { writeAll } from "../../lib/io/write_all.ts";

Deno.test("parseHost reads names, IPv4, bracketed IPv6 and ports as a browser writes them", () => {
  const cases: [string, ReturnType<typeof parseHost>][] = [
    ["example.test", { hostname: "example.test", port: null }],
    ["Example.TEST:8080", { hostname: "example.test", port: 8080 }],
    ["localhost.:80", { hostname: "localhost", port: 80 }], // trailing dot, default port kept
    ["127.0.0.1:7000", { hostname: "127.0.0.1", port: 7000 }],
    ["[::1]:8080", { hostname: "::1", port: 8080 }],
    ["[0:0:0:0:0:0:0:1]", { hostname: "::1", port: null }], // IPv6 in its short form
    ["", null],
    ["a b", null],
    ["user@host", null], // user info
    ["host/path", null],
    ["host:99999", null], // port out of range
    ["::1", null], // IPv6 needs brackets
  ];
  for (const [host, expected] of cases) assert.deepEqual(parseHost(host), expected, host);
});

Deno.test("isAllowedHost: the bound address, localhost on loopback, and --allow-host names", () => {
  const loopback = { hostname: "127.0.0.1" };
  const v6 = { hostname: "::1" };
  const all = { hostname: "0.0.0.0" };
  const cases: [string | null, { hostname: string }, string[], boolean, string][] = [
    ["127.0.0.1:8080", loopback, [], true, "the bound address"],
    ["127.0.0.1", loopback, [], true, "without a port"],
    ["localhost:8080", loopback, [], true, "localhost for loopback"],
    ["app.localhost:8080", loopback, [], true, "*.localhost resolves to loopback (RFC 6761)"],
    ["[::1]:8080", v6, [], true, "bound IPv6"],
    ["localhost:8080", v6, [], true, "localhost for IPv6 loopback"],
    ["127.0.0.2:8080", loopback, [], false, "another address than the bound one"],
    ["rebind.test:8080", loopback, [], false, "DNS rebinding: a name that is not ours"],
    ["rebind.test:8080", loopback, ["rebind.test"], true, "allowed with --allow-host"],
    ["REBIND.test.:8080", loopback, ["rebind.test"], true, "case and trailing dot"],
    ["a.rebind.test", loopback, ["rebind.test"], false, "an exact name allows no subdomain"],
    ["a.rebind.test", loopback, [".rebind.test"], true, "a leading dot allows subdomains"],
    ["rebind.test", loopback, [".rebind.test"], true, "and the name itself"],
    ["evilrebind.test", loopback, [".rebind.test"], false, "a suffix is not a subdomain"],
    ["192.168.1.20:8080", all, [], true, "any address when bound to all interfaces"],
    ["localhost:8080", all, [], true, "localhost reaches 0.0.0.0"],
    ["rebind.test:8080", all, [], false, "names still need --allow-host on 0.0.0.0"],
    [
      "localhost:8080",
      { hostname: "192.168.1.20" },
      [],
      false,
      "localhost does not reach a LAN address",
    ],
    [null, loopback, [], false, "no Host header"],
    ["bad host", loopback, [], false, "malformed"],
  ];
  for (const [host, bound, allowedHosts, expected, why] of cases) {
    assert.equal(isAllowedHost(host, bound, { allowedHosts }), expected, `${host}: ${why}`);
  }
});

Deno.test("checkHost answers 400 without a valid Host and 403 naming the flag otherwise", () => {
  const bound = { hostname: "127.0.0.1" };
  const fails = (host: string | null, status: number, pattern: RegExp, flag?: string) =>
    assert.throws(
      () => checkHost(host, bound, { flag }),
      (error) =>
        error instanceof HttpError && error.status === status && pattern.test(error.message),
      String(host),
    );
  fails(null, 400, /^Missing Host header$/);
  fails("a b", 400, /^Malformed Host header: "a b"$/);
  fails(
    "rebind.test:9",
    403,
    /^Cannot serve host "rebind.test:9": it does not name this server \(start the server with --allow-host rebind.test to allow it\)$/,
  );
  fails("rebind.test", 403, /--web-allow-host rebind\.test/, "--web-allow-host");
  checkHost("localhost:9", bound); // no throw
});

// The DNS-rebinding case over a real socket: the attacker's page and its
// requests carry its own name in both Host and Origin, so comparing the two
// (what the WebSocket handshake did) lets it in; checking Host does not.
Deno.test("a server with checkHost refuses a rebinding request with 403 even though Origin matches Host", async () => {
  await using server = serveTcp(async (conn) => {
    const request = await readRequestHead(new ChunkReader(conn), {
      signal: AbortSignal.timeout(10_000),
    });
    if (request === null) return;
    let response;
    try {
      checkHost(request.head.headers.get("host"), server.addr, { allowedHosts: ["ok.test"] });
      response = encodeHttpResponse(200, { body: "hello\n" });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      response = encodeHttpErrorResponse(error);
    }
    await writeAndLinger(conn, response, { signal: AbortSignal.timeout(2_000) });
  }, { logger: new Logger({ level: "error" }) });
  const port = server.addr.port;
  const ask = async (host: string) => {
    using conn = await Deno.connect({ port });
    await writeAll(
      conn,
      new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\n\r\n`,
      ),
    );
    await conn.closeWrite();
    return await new Response(conn.readable).text();
  };
  const rebound = await ask(`rebind.test:${port}`);
  assert.match(rebound, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.match(rebound, /--allow-host rebind\.test to allow it\)\n$/);
  assert.match(await ask(`127.0.0.1:${port}`), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(await ask(`localhost:${port}`), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(await ask(`ok.test:${port}`), /^HTTP\/1\.1 200 OK\r\n/);
});
