// End-to-end tests of scripts/ws_client.ts as a process, against small WebSocket servers built
// on the runtime's Deno.serve and Deno.upgradeWebSocket (so they test the client alone).
import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript, startScript } from "../helpers/script_process.ts";

const decoder = new TextDecoder();
const FIXTURES = join(import.meta.dirname!, "..", "fixtures") + "/";

interface TestServer extends AsyncDisposable {
  port: number;
  /** Close codes of the connections that ended. */
  closeCodes: number[];
}

/**
 * A WebSocket server on a free port. It echoes, except: "three" gets three replies, "esc" gets
 * text full of terminal escapes. It picks the subprotocol "chat" when offered.
 */
function testServer(tls?: { cert: string; key: string }): TestServer {
  const closeCodes: number[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    ...tls,
  }, (request) => {
    const offered = request.headers.get("sec-websocket-protocol")?.split(/,\s*/) ?? [];
    const { socket, response } = Deno.upgradeWebSocket(request, {
      protocol: offered.includes("chat") ? "chat" : undefined,
    });
    socket.onmessage = (event) => {
      if (event.data === "three") { for (const n of [1, 2, 3]) socket.send(`reply ${n}`); }
      else if (event.data === "esc") socket.send("\x1b[31mred\x1b]0;pwned\x07 ok");
      else socket.send(event.data);
    };
    socket.onclose = (event) => closeCodes.push(event.code);
    return response;
  });
  return {
    port: server.addr.port,
    closeCodes,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

function client(args: string[], denoFlags = ["--allow-net=127.0.0.1"]) {
  return runScript("ws_client.ts", args, { denoFlags });
}

// Regression: ws_client had no timeout at all; a server that accepts and never answers the
// handshake kept it waiting forever.
Deno.test("ws_client.ts --timeout gives up on a server that never answers the handshake", async () => {
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  // Ends when the listener closes, whether or not the client connected.
  const accepting = silent.accept().then((conn) => held.push(conn), () => {});
  try {
    const result = await client([
      `ws://127.0.0.1:${silent.addr.port}/`,
      "-m",
      "hi",
      "--timeout",
      "0.3",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /no WebSocket handshake with 127\.0\.0\.1:\d+ within 0\.3 s/);
  } finally {
    silent.close();
    await accepting;
    for (const conn of held) conn.close();
  }
});

// Regression: --message waited forever for a first reply that a broadcast endpoint with nobody
// else connected never sends.
Deno.test("ws_client.ts --message gives up after --timeout when not enough replies come", async () => {
  await using server = testServer();
  const result = await client([
    `ws://127.0.0.1:${server.port}/`,
    "-m",
    "hi",
    "--count",
    "2",
    "--timeout",
    "1",
  ]);
  assert.equal(result.code, 1);
  assert.equal(decoder.decode(result.stdout), "hi\n");
  assert.match(result.stderr, /got 1 of 2 replies within 1 s/);
});

Deno.test("ws_client.ts --count N prints N replies; --wait prints what comes within the time", async () => {
  await using server = testServer();
  const url = `ws://127.0.0.1:${server.port}/`;
  const three = await client([url, "-m", "three", "--count", "3"]);
  assert.equal(three.code, 0, three.stderr);
  assert.equal(decoder.decode(three.stdout), "reply 1\nreply 2\nreply 3\n");
  const first = await client([url, "-m", "three"]);
  assert.equal(decoder.decode(first.stdout), "reply 1\n");
  const waited = await client([url, "-m", "three", "--wait", "1"]);
  assert.equal(waited.code, 0, waited.stderr);
  assert.equal(decoder.decode(waited.stdout), "reply 1\nreply 2\nreply 3\n");
  assert.ok(server.closeCodes.every((code) => code === 1000), String(server.closeCodes));
});

// Regression: ANSI escapes from the server went straight to the user's terminal.
Deno.test("ws_client.ts strips terminal escapes from received text", async () => {
  await using server = testServer();
  const result = await client([`ws://127.0.0.1:${server.port}/`, "-m", "esc"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decoder.decode(result.stdout), "red ok\n");
});

Deno.test("ws_client.ts --binary sends hex as a binary message; --hexdump shows both directions", async () => {
  await using server = testServer();
  const result = await client([
    `ws://127.0.0.1:${server.port}/`,
    "--binary",
    "-m",
    "de ad 00 ff",
    "--hexdump",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decoder.decode(result.stdout), "<binary 4 bytes: de ad 00 ff>\n");
  const rows = result.stderr.split("\n");
  const pad = " ".repeat(38);
  assert.ok(rows.includes(`> 00000000  de ad 00 ff${pad}....`), result.stderr);
  assert.ok(rows.includes(`< 00000000  de ad 00 ff${pad}....`), result.stderr);
  const bad = await client([`ws://127.0.0.1:${server.port}/`, "--binary", "-m", "xyz"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--message is not hex/);
});

Deno.test("ws_client.ts reports the subprotocol the server picked", async () => {
  await using server = testServer();
  const url = `ws://127.0.0.1:${server.port}/`;
  const chat = await client([url, "-m", "hi", "--protocol", "chat"]);
  assert.equal(chat.code, 0, chat.stderr);
  assert.match(chat.stderr, /^subprotocol: chat$/m);
  const none = await client([url, "-m", "hi", "--protocol", "mqtt"]);
  assert.match(none.stderr, /^subprotocol: none/m);
});

// Regression: the runtime's own text ("Requires net access to ..., run again with the
// --allow-net flag") reached the user instead of the flag to add.
Deno.test("ws_client.ts names the --allow-net flag when the URL's host is not allowed", async () => {
  const result = await client(["ws://[::1]:9/echo", "-m", "hi"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: permission denied: run with --allow-net=\[::1\]:9$/m);
});

// Regression: ws:// against a wss:// server said "invalid HTTP version parsed".
Deno.test("ws_client.ts suggests wss:// when a ws:// URL reaches a TLS server", async () => {
  await using server = testServer({
    cert: await Deno.readTextFile(`${FIXTURES}localhost.crt`),
    key: await Deno.readTextFile(`${FIXTURES}localhost.key`),
  });
  const result = await client([`ws://127.0.0.1:${server.port}/echo`, "-m", "hi"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /a TLS server\? try wss:\/\/127\.0\.0\.1:\d+\/echo/);
});

Deno.test("ws_client.ts --bench --json prints one JSON object", async () => {
  await using server = testServer();
  const result = await client([
    `ws://127.0.0.1:${server.port}/`,
    "--bench",
    "--json",
    "-c",
    "2",
    "-d",
    "4",
    "--duration",
    "0.2",
    "--warmup",
    "0",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(decoder.decode(result.stdout));
  assert.equal(report.connections, 2);
  assert.equal(report.inFlight, 4);
  assert.ok(report.messages > 0);
  // The same keys on every client, so figures can be compared by a program.
  for (const key of ["target", "inFlight", "size", "seconds", "latencyMs", "clientCpu"]) {
    assert.ok(key in report, key);
  }
  assert.ok(report.latencyMs.p99 >= report.latencyMs.p50);
});

Deno.test("ws_client.ts closes with 1000 and exits 0 on SIGINT", async () => {
  await using server = testServer();
  await using proc = await startScript("ws_client.ts", [`ws://127.0.0.1:${server.port}/`], {
    denoFlags: ["--allow-net=127.0.0.1"],
    waitForListening: false,
    stdin: "piped",
  });
  await proc.waitForLine(/^connected to ws:/);
  const status = await proc.interrupt();
  await proc.child.stdin.close().catch(() => {});
  assert.equal(status.code, 0, proc.stderr.join("\n"));
  assert.deepEqual(proc.stderr.filter((line) => !/^connected to/.test(line)), []);
});

Deno.test("ws_client.ts suggests ws:// when a wss:// URL reaches a plain server", async () => {
  await using server = testServer();
  const result = await client([`wss://127.0.0.1:${server.port}/echo`, "-m", "hi"]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /the server does not speak TLS \(try ws:\/\/127\.0\.0\.1:\d+\/echo\)/,
  );
});
