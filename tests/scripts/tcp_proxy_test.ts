/**
 * scripts/tcp_proxy.ts end to end, and our own servers pushed through it:
 * the chat server and the WebSocket server with every byte in its own write
 * (`--slice 1`), the file transfer across resets (`--reset-after`), and TLS
 * passing through untouched.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeAll } from "../../lib/io/write_all.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { runScript, type ScriptProcess, startScript } from "../helpers/script_process.ts";

const PROXY = "tcp_proxy.ts";
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const PYTHON = "/usr/bin/python3";
const NO_PYTHON_WEBSOCKETS = await missingTool(PYTHON, ["-c", "import websockets.client"]);

/** Starts the proxy in front of `port` with extra flags. */
function startProxy(port: number, flags: string[] = []): Promise<ScriptProcess> {
  return startScript(PROXY, ["--port", "0", "--to", `127.0.0.1:${port}`, ...flags], {
    denoFlags: ["--allow-net=127.0.0.1"],
  });
}

/** Reads until EOF. */
async function readAll(conn: Deno.Conn): Promise<string> {
  const parts: string[] = [];
  const buffer = new Uint8Array(4096);
  for (let n; (n = await conn.read(buffer)) !== null;) {
    parts.push(decoder.decode(buffer.subarray(0, n), { stream: true }));
  }
  return parts.join("");
}

Deno.test("tcp_proxy.ts --help prints usage with exit 0; bad --to and --direction exit 2", async () => {
  const help = await runScript(PROXY, ["--help"], { denoFlags: [] });
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /--slice BYTES/);
  assert.match(decoder.decode(help.stdout), /--reset-after BYTES/);
  for (const args of [["--to", "7000"], ["--direction", "sideways"], ["--slice", "-1"]]) {
    const bad = await runScript(PROXY, args, { denoFlags: [] });
    assert.equal(bad.code, 2, args.join(" "));
    assert.match(bad.stderr, /Run with --help for usage/);
  }
});

Deno.test("tcp_proxy.ts forwards the echo both ways and prints the bytes each way on Ctrl+C (--json)", async () => {
  await using echo = await startScript("tcp_echo_server.ts", ["--port", "0"]);
  await using proxy = await startProxy(echo.port, ["--json"]);
  for (const message of ["first\n", "second, longer\n"]) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    try {
      await writeAll(conn, encoder.encode(message));
      await conn.closeWrite(); // the half-close reaches the echo, which then closes
      assert.equal(await readAll(conn), message);
    } finally {
      conn.close();
    }
  }
  await proxy.waitForLine(/#2 .* closed after/);
  const status = await proxy.interrupt();
  assert.equal(status.code, 0);
  const summary = JSON.parse(proxy.stdout.at(-1)!);
  assert.deepEqual(summary.total, { connections: 2, up: 21, down: 21 });
  assert.deepEqual(summary.connections.map((c: { end: string }) => c.end), ["closed", "closed"]);
  assert.deepEqual(summary.connections.map((c: { up: number }) => c.up), [6, 15]);
});

Deno.test("tcp_proxy.ts closes the client when the upstream refuses, and logs the usual advice", async () => {
  // A port nobody listens on: bind one, note it, close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = listener.addr.port;
  listener.close();
  await using proxy = await startProxy(deadPort);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    assert.equal(await conn.read(new Uint8Array(16)), null);
  } finally {
    conn.close();
  }
  await proxy.waitForLine(
    new RegExp(`connection refused: is the server running on 127\\.0\\.0\\.1:${deadPort}\\?`),
  );
});

Deno.test("tcp_proxy.ts passes TLS through untouched", async () => {
  const fixtures = join(import.meta.dirname!, "..", "fixtures") + "/";
  await using echo = await startScript("tcp_echo_server.ts", [
    "--port",
    "0",
    "--tls-cert",
    `${fixtures}localhost.crt`,
    "--tls-key",
    `${fixtures}localhost.key`,
  ], { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${fixtures}`] });
  await using proxy = await startProxy(echo.port, ["--slice", "7"]);
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port: proxy.port,
    caCerts: [await Deno.readTextFile(`${fixtures}ca.crt`)],
  });
  try {
    await writeAll(conn, encoder.encode("secret\n"));
    const buffer = new Uint8Array(16);
    let got = "";
    while (got.length < 7) {
      const n = await conn.read(buffer);
      if (n === null) break;
      got += decoder.decode(buffer.subarray(0, n));
    }
    assert.equal(got, "secret\n");
  } finally {
    conn.close();
  }
});

Deno.test("the chat server works through tcp_proxy.ts --slice 1 (every byte its own write)", async () => {
  await using chat = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"]);
  await using proxy = await startProxy(chat.port, ["--slice", "1"]);
  await using alice = await ChatLineClient.connect(proxy.port, "alice");
  await using bob = await ChatLineClient.connect(proxy.port, "bob");
  await alice.send("hello bob, one byte at a time");
  await bob.waitFor(/alice.*hello bob, one byte at a time/);
  await bob.send("héllo back, with a two-byte é");
  await alice.waitFor(/bob.*héllo back, with a two-byte é/);
});

const PYTHON_THROUGH_PROXY = `
import asyncio, sys
from websockets.client import connect

async def main(port):
    async with connect(f"ws://127.0.0.1:{port}/echo", max_size=2**16) as ws:
        await ws.send("text split into bytes")
        assert await ws.recv() == "text split into bytes"
        data = bytes(range(200))
        await ws.send(data)
        assert await ws.recv() == data
    print("ok")

asyncio.run(main(int(sys.argv[1])))
`;

Deno.test({
  name: "the WebSocket server talks to Python's websockets through tcp_proxy.ts --slice 1",
  ignore: NO_PYTHON_WEBSOCKETS,
  async fn() {
    await using server = await startScript("ws_server.ts", ["--port", "0"]);
    await using proxy = await startProxy(server.port, ["--slice", "1", "--json"]);
    const output = await new Deno.Command(PYTHON, {
      args: ["-c", PYTHON_THROUGH_PROXY, String(proxy.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(decoder.decode(output.stdout), "ok\n", decoder.decode(output.stderr));
    assert.equal(output.code, 0);
    await proxy.waitForLine(/#1 .* closed after/);
    assert.equal((await proxy.interrupt()).code, 0);
    // Every byte of both directions went in its own write.
    const [connection] = JSON.parse(proxy.stdout.at(-1)!).connections;
    assert.ok(connection.up > 200 && connection.down > 200);
    assert.equal(connection.upWrites, connection.up);
    assert.equal(connection.downWrites, connection.down);
  },
});

Deno.test("file_send.ts resumes through tcp_proxy.ts --reset-after, and the receiver verifies the file", async () => {
  const base = await Deno.makeTempDir({ prefix: "tcp_proxy_file_" });
  try {
    const dir = `${base}/received`;
    const source = `${base}/data.bin`;
    const data = new Uint8Array(1 << 20);
    for (let at = 0; at < data.length; at += 65_536) {
      crypto.getRandomValues(data.subarray(at, at + 65_536));
    }
    await Deno.writeFile(source, data);
    await using receiver = await startScript("file_receive.ts", ["--port", "0", "--dir", dir], {
      denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${dir}`, `--allow-write=${dir}`],
    });
    // Each connection is reset after 400 kB: the 1 MiB file takes three.
    await using proxy = await startProxy(receiver.port, ["--reset-after", "400000"]);
    const sent = await runScript(
      "file_send.ts",
      ["--port", String(proxy.port), "--retries", "5", source],
      { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${source}`] },
    );
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(decoder.decode(sent.stdout), /verified by the receiver/);
    assert.match(sent.stderr, /resuming at/);
    assert.deepEqual(await Deno.readFile(`${dir}/data.bin`), data);
    await proxy.waitForLine(/reset-after/);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("tcp_echo_client.ts gives up with advice through tcp_proxy.ts --blackhole", async () => {
  await using echo = await startScript("tcp_echo_server.ts", ["--port", "0"]);
  await using proxy = await startProxy(echo.port, ["--blackhole"]);
  const client = await runScript("tcp_echo_client.ts", [
    "--port",
    String(proxy.port),
    "--message",
    "anyone there?",
    "--timeout",
    "0.3",
  ]);
  assert.equal(client.code, 1);
  assert.match(client.stderr, /got 0 of 14 bytes back before the server closed or 300 ms passed/);
});

Deno.test("file_send.ts through tcp_proxy.ts --bandwidth reports a rate within the limit", async () => {
  const base = await Deno.makeTempDir({ prefix: "tcp_proxy_bandwidth_" });
  try {
    const dir = `${base}/received`;
    const source = `${base}/slow.bin`;
    await Deno.writeFile(source, new Uint8Array(200_000).fill(7));
    await using receiver = await startScript("file_receive.ts", ["--port", "0", "--dir", dir], {
      denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${dir}`, `--allow-write=${dir}`],
    });
    await using proxy = await startProxy(receiver.port, [
      "--bandwidth",
      "200000",
      "--direction",
      "up",
    ]);
    const sent = await runScript("file_send.ts", ["--port", String(proxy.port), source], {
      denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${source}`],
    });
    assert.equal(sent.code, 0, sent.stderr);
    // 200 kB at 200 kB/s, less the bucket's 10 kB burst: at least 0.95 s,
    // so the sender's own figure is at most about 210 kB/s.
    const match = decoder.decode(sent.stdout).match(/\(([\d.]+) (KiB|MiB)\/s\)/);
    assert.ok(match, decoder.decode(sent.stdout));
    const rate = Number(match[1]) * (match[2] === "MiB" ? 1024 * 1024 : 1024);
    assert.ok(rate <= 215_000, `the sender reported ${rate} B/s through a 200,000 B/s link`);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("tcp_proxy.ts --idle-timeout closes a silent connection and says so in the summary", async () => {
  await using echo = await startScript("tcp_echo_server.ts", ["--port", "0"]);
  await using proxy = await startProxy(echo.port, ["--idle-timeout", "0.2", "--json"]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    await writeAll(conn, encoder.encode("then silence"));
    assert.equal(await readAll(conn), "then silence"); // ends when the proxy closes it
  } finally {
    conn.close();
  }
  await proxy.waitForLine(/#1 .* idle-timeout after/);
  assert.equal((await proxy.interrupt()).code, 0);
  assert.equal(JSON.parse(proxy.stdout.at(-1)!).connections[0].end, "idle-timeout");
});

Deno.test("tcp_proxy.ts and udp_proxy.ts exit 1 with the flag to add when --to is outside --allow-net", async () => {
  for (
    const [script, flags] of [
      [PROXY, ["--allow-net=127.0.0.1"]],
      ["udp_proxy.ts", ["--unstable-net", "--allow-net=127.0.0.1"]],
    ] as const
  ) {
    const run = await runScript(script, ["--port", "0", "--to", "127.0.0.2:7000"], {
      denoFlags: [...flags],
    });
    assert.equal(run.code, 1, script);
    assert.match(
      run.stderr,
      /permission denied: run with --allow-net=127\.0\.0\.1,127\.0\.0\.2:7000/,
    );
  }
});
