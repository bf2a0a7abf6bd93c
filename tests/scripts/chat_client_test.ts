import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../lib/cli/log.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { type ChatServer, startChatServer } from "../../lib/chat/chat_server.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { runScript, startScript } from "../helpers/script_process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FLAGS = ["--allow-net=127.0.0.1"];

async function withServer(body: (server: ChatServer) => Promise<void>): Promise<void> {
  const server = startChatServer({ port: 0, logger: new Logger({ level: "error" }) });
  try {
    await body(server);
  } finally {
    await server.shutdown();
  }
}

/** A plain TCP echo listener on a free port, echoing until each client half-closes. */
function echoListener(): { port: number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handlers: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      handlers.push((async () => {
        try {
          const reader = new ChunkReader(conn);
          for (let chunk; (chunk = await reader.read()) !== null;) await writeAll(conn, chunk);
        } catch {
          /* the client went away */
        } finally {
          closeQuietly(conn);
        }
      })());
    }
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.all(handlers);
    },
  };
}

// Regression: the client wrote `/nick NAME` and went straight on to stdin, so with the nick
// taken the server read the first stdin line as the nick ("You are hello") and the client
// exited 0.
Deno.test("chat_client.ts --nick with a taken nick exits 1 with the reason and sends nothing from stdin", async () => {
  await withServer(async (server) => {
    await using erin = await ChatLineClient.connect(server.addr.port, "erin");
    const result = await runScript(
      "chat_client.ts",
      ["--port", String(server.addr.port), "--nick", "ERIN"],
      { denoFlags: FLAGS, stdin: encoder.encode("hello\n") },
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: the server refused the nick: .*taken/);
    const stdout = decoder.decode(result.stdout);
    assert.doesNotMatch(stdout, /You are/);
    // The room still holds erin alone: "hello" never became anyone's nick.
    await erin.send("/who");
    assert.match(await erin.waitFor(/^\*\*\* \d+ in #lobby/), /^\*\*\* 1 in #lobby: erin$/);
  });
});

Deno.test("chat_client.ts --nick with an invalid nick exits 1 with the server's reason", async () => {
  await withServer(async (server) => {
    const result = await runScript(
      "chat_client.ts",
      ["--port", String(server.addr.port), "--nick", "9lives"],
      { denoFlags: FLAGS, stdin: encoder.encode("hello\n") },
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: the server refused the nick: .*letter/);
    assert.doesNotMatch(decoder.decode(result.stdout), /You are/);
  });
});

// Regression: against an echo server the client printed "/nick bob", "hello", "/who" back and
// exited 0, with no hint that it was talking to the wrong kind of server.
Deno.test("chat_client.ts pointed at an echo server says so and exits 1", async () => {
  const echo = echoListener();
  try {
    const result = await runScript(
      "chat_client.ts",
      ["--port", String(echo.port), "--nick", "bob"],
      { denoFlags: FLAGS, stdin: encoder.encode("hello\n/who\n") },
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /sent our "\/nick bob" line back: it looks like an echo server/);
    assert.equal(decoder.decode(result.stdout), "");
  } finally {
    await echo.close();
  }
});

// Regression: the end of stdin is the user leaving, yet the client reported
// "*** connection closed by the server".
Deno.test("chat_client.ts at the end of stdin exits 0 without claiming the server closed", async () => {
  await withServer(async (server) => {
    const result = await runScript(
      "chat_client.ts",
      ["--port", String(server.addr.port), "--nick", "bob"],
      { denoFlags: FLAGS, stdin: encoder.encode("hello\n/who\n") },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(decoder.decode(result.stdout), /^\*\*\* 1 in #lobby: bob$/m);
    assert.doesNotMatch(result.stderr, /closed by the server/);
  });
});

// Regression: Ctrl+C printed the server's "*** Bye" and then "*** connection closed by the
// server", two goodbyes for one keypress, the second one wrong.
Deno.test("chat_client.ts on SIGINT says goodbye once and exits 0", async () => {
  await withServer(async (server) => {
    await using client = await startScript(
      "chat_client.ts",
      ["--port", String(server.addr.port), "--nick", "bob"],
      { denoFlags: FLAGS, waitForListening: false, stdin: "piped" },
    );
    await client.waitForLine(/\*\*\* bob joined #lobby/);
    const status = await client.interrupt();
    await client.child.stdin.close().catch(() => {});
    assert.equal(status.code, 0, client.stderr.join("\n"));
    const goodbyes = [...client.stdout, ...client.stderr].filter((line) =>
      /Bye|closed by the server|left/.test(line)
    );
    assert.deepEqual(goodbyes, ["*** Bye"]);
  });
});

Deno.test("chat_client.ts still reports a server that closes on its own", async () => {
  const server = startChatServer({ port: 0, logger: new Logger({ level: "error" }) });
  let shutDown = false;
  try {
    await using client = await startScript(
      "chat_client.ts",
      ["--port", String(server.addr.port), "--nick", "bob"],
      { denoFlags: FLAGS, waitForListening: false, stdin: "piped" },
    );
    await client.waitForLine(/\*\*\* bob joined #lobby/);
    await server.shutdown();
    shutDown = true;
    await client.waitForLine(/connection closed by the server/);
    await client.child.stdin.close().catch(() => {});
    assert.equal((await client.child.status).code, 0);
  } finally {
    if (!shutDown) await server.shutdown();
  }
});

Deno.test("chat_client.ts pointed at a TLS server says it speaks TLS and exits 1", async () => {
  const fixtures = join(import.meta.dirname!, "..", "fixtures") + "/";
  await using server = await startScript("tcp_echo_server.ts", [
    "--port",
    "0",
    "--quiet",
    "--tls-cert",
    `${fixtures}localhost.crt`,
    "--tls-key",
    `${fixtures}localhost.key`,
  ], { denoFlags: ["--allow-net=127.0.0.1", `--allow-read=${fixtures}`] });
  const result = await runScript(
    "chat_client.ts",
    ["--port", String(server.port), "--nick", "bob"],
    { denoFlags: FLAGS, stdin: encoder.encode("hello\n") },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /answered with a TLS alert: it speaks TLS/);
});
