// End-to-end tests of scripts/tcp_echo_client.ts's advice, ping, hex dump, JSON and Ctrl+C.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript, startScript } from "../helpers/script_process.ts";

const SERVER = "tcp_echo_server.ts";
const CLIENT = "tcp_echo_client.ts";
const FIXTURES = join(import.meta.dirname!, "..", "fixtures") + "/";
const decoder = new TextDecoder();

function tlsServer() {
  return startScript(SERVER, [
    "--port",
    "0",
    "--quiet",
    "--tls-cert",
    `${FIXTURES}localhost.crt`,
    "--tls-key",
    `${FIXTURES}localhost.key`,
  ], { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${FIXTURES}`] });
}

// Regression: the echoed ClientHello made the advice "self-signed server? pass --ca FILE".
Deno.test("tcp_echo_client.ts --tls against a plain server says it does not speak TLS", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  const result = await runScript(CLIENT, ["--port", String(server.port), "--tls", "-m", "hi"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /the server does not speak TLS/);
  assert.doesNotMatch(result.stderr, /self-signed/);
});

// Regression: a plain client against a TLS server printed the alert bytes as a wrong echo.
Deno.test("tcp_echo_client.ts without --tls against a TLS server suggests --tls", async () => {
  await using server = await tlsServer();
  for (const message of ["hello", "hi"]) { // longer and shorter than the 7-byte alert
    const result = await runScript(CLIENT, ["--port", String(server.port), "-m", message]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /TLS alert: it speaks TLS, try --tls/);
  }
});

Deno.test("tcp_echo_client.ts --count is a TCP ping with a summary, also as JSON", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  const port = String(server.port);
  const result = await runScript(CLIENT, ["--port", port, "--count", "3", "--interval", "0"]);
  assert.equal(result.code, 0, result.stderr);
  const stdout = decoder.decode(result.stdout);
  for (const seq of [1, 2, 3]) {
    assert.match(
      stdout,
      new RegExp(`^7 bytes from 127\\.0\\.0\\.1:${port}: seq=${seq} time=`, "m"),
    );
  }
  assert.match(stdout, /^3 sent, 3 echoed, time \d+ ms$/m);
  assert.match(stdout, /^rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/m);
  const json = await runScript(CLIENT, ["-p", port, "--count", "2", "-i", "0", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const summary = JSON.parse(decoder.decode(json.stdout));
  assert.equal(summary.sent, 2);
  assert.equal(summary.received, 2);
  assert.ok(summary.rttMs.max >= summary.rttMs.min);
});

Deno.test("tcp_echo_client.ts --count stops with exit 1 when the server does not echo", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = listener.accept().then((conn) => held.push(conn), () => {});
  try {
    const result = await runScript(CLIENT, [
      "--port",
      String(listener.addr.port),
      "--count",
      "3",
      "--interval",
      "0",
      "--timeout",
      "0.3",
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no echo for seq=1 within 0\.3 s/);
    assert.match(decoder.decode(result.stdout), /^1 sent, 0 echoed/m);
  } finally {
    listener.close();
    await accepting;
    for (const conn of held) conn.close();
  }
});

Deno.test("tcp_echo_client.ts --hexdump shows both directions on stderr, data on stdout", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  const result = await runScript(CLIENT, ["--port", String(server.port), "-m", "hi", "-x"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decoder.decode(result.stdout), "hi\n");
  const rows = result.stderr.split("\n");
  const pad = " ".repeat(41);
  assert.ok(rows.includes(`> 00000000  68 69 0a${pad}hi.`), result.stderr);
  assert.ok(rows.includes(`< 00000000  68 69 0a${pad}hi.`), result.stderr);
});

Deno.test("tcp_echo_client.ts --bench --json prints one JSON object", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  const result = await runScript(CLIENT, [
    "--port",
    String(server.port),
    "--bench",
    "--json",
    "--duration",
    "0.2",
    "--warmup",
    "0",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(decoder.decode(result.stdout));
  assert.equal(report.connections, 1);
  assert.ok(report.messages > 0);
  // The same keys on every client, so figures can be compared by a program.
  for (const key of ["target", "inFlight", "size", "seconds", "latencyMs", "clientCpu"]) {
    assert.ok(key in report, key);
  }
});

// Regression: --retries retried silently, where file-send warned for every retry.
Deno.test("tcp_echo_client.ts --retries warns before each retry", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const result = await runScript(CLIENT, ["--port", String(port), "--retries", "2", "-m", "x"]);
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split("\n");
  assert.deepEqual(lines.map((line) => line.replace(/ in [\d.]+ s\)$/, ")")), [
    `warning: connection refused: is the server running on 127.0.0.1:${port}? (retry 1 of 2)`,
    `warning: connection refused: is the server running on 127.0.0.1:${port}? (retry 2 of 2)`,
    `error: connection refused: is the server running on 127.0.0.1:${port}?`,
  ]);
});

// Regression: Ctrl+C in pipe or interactive mode killed the client by the signal (exit 130
// under `deno task`), with the echoes of what was sent still on their way.
Deno.test("tcp_echo_client.ts pipe mode on SIGINT half-closes and exits 0", async () => {
  await using server = await startScript(SERVER, ["--port", "0", "--quiet"]);
  await using client = await startScript(CLIENT, ["--port", String(server.port), "-x"], {
    waitForListening: false,
    stdin: "piped",
  });
  const writer = client.child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("hi\n"));
  await client.waitForLine(/^< 00000000 /);
  const status = await client.interrupt();
  await writer.close().catch(() => {});
  assert.equal(status.code, 0, client.stderr.join("\n"));
  assert.deepEqual(client.stdout, ["hi"]);
});
