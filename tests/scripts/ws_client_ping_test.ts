// scripts/ws_client.ts --show-ping as a process (issue 11: ping/pong shown, as wscat -P users
// expect): against our ws_server.ts (our /ping and its Pong; the server's heartbeat Pings),
// against python websockets' server (its ping_interval Pings), and against a raw server that
// reads the frames to check that every one is masked with its own key.
import assert from "node:assert/strict";
import { missingTool } from "../helpers/external_tool.ts";
import { startScript } from "../helpers/script_process.ts";
import { OK_101, rawServer } from "../helpers/ws_raw_server.ts";

const PYTHON = "/usr/bin/python3";
const NO_PY_WEBSOCKETS = await missingTool(PYTHON, ["-c", "import websockets.server"]);
const encoder = new TextEncoder();

/** Starts `ws_client.ts URL --show-ping ...` with piped stdin, not waiting for a listening line. */
function pingClient(url: string, args: string[] = []) {
  return startScript("ws_client.ts", [url, "--show-ping", ...args], {
    denoFlags: ["--allow-net=127.0.0.1"],
    waitForListening: false,
    stdin: "piped",
  });
}

/** scripts/ws_server.ts on wss:// with the test certificate (for localhost, by tests/fixtures/ca.crt). */
function startWssServer() {
  const fixture = (name: string) => `tests/fixtures/${name}`;
  return startScript(
    "ws_server.ts",
    ["--port", "0", "--tls-cert", fixture("localhost.crt"), "--tls-key", fixture("localhost.key")],
    { denoFlags: ["--allow-net=127.0.0.1,localhost", "--allow-read=tests/fixtures"] },
  );
}

async function writeLine(child: Deno.ChildProcess, line: string): Promise<void> {
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(line + "\n"));
  writer.releaseLock();
}

Deno.test("ws_client.ts --show-ping: /ping TEXT to our ws_server prints its pong, messages still echo", async () => {
  await using server = await startScript("ws_server.ts", ["--port", "0"]);
  await using client = await pingClient(`ws://127.0.0.1:${server.port}/echo`);
  await client.waitForLine(/^connected to ws:/);
  await writeLine(client.child, "/ping are you there");
  await client.waitForLine(/^< pong are you there$/);
  await writeLine(client.child, "/ping");
  await client.waitForLine(/^< pong$/);
  await writeLine(client.child, "hello");
  await client.waitForLine(/^hello$/);
  await client.child.stdin.close();
  const status = await client.child.status;
  assert.equal(status.code, 0, client.stderr.join("\n"));
  // A line that only starts like the command is a message.
  assert.equal(client.stdout.filter((line) => line.startsWith("/ping")).length, 0);
  await server.waitForLine(/closed \/echo: 1000/);
});

Deno.test("ws_client.ts --show-ping prints our ws_server's heartbeat pings (--message --wait)", async () => {
  // --idle-timeout 0.4: the server pings after 0.2 s of silence.
  await using server = await startScript("ws_server.ts", ["--port", "0", "--idle-timeout", "0.4"]);
  await using client = await pingClient(`ws://127.0.0.1:${server.port}/echo`, [
    "-m",
    "hi",
    "--count",
    "2", // never reached: the echo is one reply; pings are not replies
    "--timeout",
    "30",
  ]);
  await client.waitForLine(/^hi$/);
  await client.waitForLine(/^< ping$/, 10_000, 2);
  const status = await client.interrupt();
  await client.child.stdin.close().catch(() => {});
  assert.equal(status.code, 0, client.stderr.join("\n"));
});

Deno.test(
  "ws_client.ts --show-ping prints the pings of python websockets' server (ping_interval)",
  { ignore: NO_PY_WEBSOCKETS },
  async () => {
    const script = `
import asyncio, websockets
async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, ping_interval=0.1) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
`;
    const python = new Deno.Command(PYTHON, {
      args: ["-c", script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const reader = python.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!/^\d+\n/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`python exited early: ${seen}`);
        seen += value;
      }
      await reader.cancel();
      const port = Number(seen.trim());
      await using client = await pingClient(`ws://127.0.0.1:${port}/`);
      await client.waitForLine(/^connected to ws:/);
      // websockets sends 4 random bytes: shown as text when they happen to be UTF-8, else hex.
      await client.waitForLine(/^< ping \S/, 10_000, 2);
      await writeLine(client.child, "/ping from deno");
      await client.waitForLine(/^< pong from deno$/);
      await writeLine(client.child, "echo me");
      await client.waitForLine(/^echo me$/);
      await client.child.stdin.close();
      assert.equal((await client.child.status).code, 0, client.stderr.join("\n"));
    } finally {
      python.kill("SIGKILL");
      await python.status;
      await python.stderr.cancel();
    }
  },
);

Deno.test("ws_client.ts --show-ping masks every frame it sends, each with a fresh key", async () => {
  const { port, seen } = rawServer(OK_101);
  await using client = await pingClient(`ws://127.0.0.1:${port}/`);
  await client.waitForLine(/^connected to ws:/);
  await writeLine(client.child, "one");
  await writeLine(client.child, "/ping two");
  await writeLine(client.child, "three");
  await client.child.stdin.close(); // end of input: Close 1000
  const { frames } = await seen;
  assert.equal((await client.child.status).code, 0, client.stderr.join("\n"));
  assert.deepEqual(frames.map((f) => f.event), [
    { type: "text", data: "one" },
    { type: "ping", data: encoder.encode("two") },
    { type: "text", data: "three" },
    { type: "close", code: 1000, reason: "" },
  ]);
  assert.deepEqual(frames.map((f) => f.masked), [true, true, true, true]);
  assert.equal(new Set(frames.map((f) => f.key)).size, 4);
});

Deno.test("ws_client.ts --show-ping refuses a server whose Sec-WebSocket-Accept is wrong", async () => {
  const { port, seen } = rawServer(() => OK_101("d3Jvbmcgd3Jvbmcgd3Jvbmc="));
  await using client = await pingClient(`ws://127.0.0.1:${port}/`, ["-m", "hi"]);
  const status = await client.child.status;
  await client.child.stdin.close().catch(() => {});
  await seen;
  assert.equal(status.code, 1);
  await client.waitForLine(/^error: .*Sec-WebSocket-Accept does not match our key/);
});

Deno.test("ws_client.ts --show-ping speaks wss:// with --ca (TLS through Deno.startTls)", async () => {
  await using server = await startWssServer();
  await using client = await startScript("ws_client.ts", [
    `wss://localhost:${server.port}/echo`,
    "--show-ping",
    "--ca",
    "tests/fixtures/ca.crt",
  ], {
    denoFlags: ["--allow-net=localhost", "--allow-read=tests/fixtures"],
    waitForListening: false,
    stdin: "piped",
  });
  await client.waitForLine(/^connected to wss:/);
  await writeLine(client.child, "/ping over tls");
  await client.waitForLine(/^< pong over tls$/);
  await writeLine(client.child, "secret");
  await client.waitForLine(/^secret$/);
  await client.child.stdin.close();
  assert.equal((await client.child.status).code, 0, client.stderr.join("\n"));
});

Deno.test("ws_client.ts --show-ping without --ca names the flag for a self-signed wss:// server", async () => {
  await using server = await startWssServer();
  await using client = await startScript("ws_client.ts", [
    `wss://localhost:${server.port}/echo`,
    "--show-ping",
    "-m",
    "hi",
  ], { denoFlags: ["--allow-net=localhost"], waitForListening: false });
  const status = await client.child.status;
  assert.equal(status.code, 1);
  await client.waitForLine(/^error: .*--ca FILE/);
});
