// scripts/chat_server.ts with --tls-cert/--tls-key (the test certificate, loopback only): its
// listening lines, `openssl s_client` and `chat_client.ts --tls --ca` in one room, the runtime's
// WebSocket over wss:// with the same Origin check as over ws://, and advice for the mistakes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { parseListeningLine } from "../../lib/net/net_addr.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { NO_PTY, startOnPty } from "../helpers/pty_process.ts";
import {
  runScript,
  type ScriptProcess,
  spawn,
  startScript,
  writeAndClose,
} from "../helpers/script_process.ts";

const NO_OPENSSL = await missingTool("openssl", ["version"]);
const NO_NCAT = await missingTool("ncat", ["--version"]);
const NO_SOCAT = await missingTool("socat", ["-V"]);
const FIXTURES = join(import.meta.dirname!, "..", "fixtures");
const CA = join(FIXTURES, "ca.crt");
/** The narrowest flags for a TLS chat: loopback and the certificate files. */
const TLS_FLAGS = ["--allow-net=127.0.0.1", `--allow-read=${FIXTURES}`];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Starts the chat with TLS on both ports; returns it and the web port. */
async function startTlsChat(): Promise<{ server: ScriptProcess; httpPort: number }> {
  const server = await startScript("chat_server.ts", [
    "--port",
    "0",
    "--http-port",
    "0",
    "--tls-cert",
    join(FIXTURES, "localhost.crt"),
    "--tls-key",
    join(FIXTURES, "localhost.key"),
  ], { denoFlags: TLS_FLAGS });
  const web = parseListeningLine(await server.waitForLine(/^listening on https:/))!;
  return { server, httpPort: web.port };
}

/** Opens a runtime WebSocket and resolves once it is open (rejects on an error). */
function openSocket(url: string, client: Deno.HttpClient): Promise<WebSocket> {
  const ws = new WebSocket(url, { client });
  const { promise, resolve, reject } = Promise.withResolvers<WebSocket>();
  ws.onopen = () => resolve(ws);
  ws.onerror = (event) => reject(new Error((event as ErrorEvent).message));
  return promise;
}

/** Collects a WebSocket's text messages and waits for one matching a pattern. */
function inbox(ws: WebSocket) {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  ws.addEventListener("message", (event) => {
    lines.push(event.data);
    for (const w of [...waiters]) {
      if (w.pattern.test(event.data)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event.data);
      }
    }
  });
  return {
    waitFor(pattern: RegExp): Promise<string> {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      const { promise, resolve } = Promise.withResolvers<string>();
      waiters.push({ pattern, resolve });
      return promise;
    },
  };
}

/** Sends an upgrade request over TLS with `origin` and returns the response's status line. */
async function upgradeStatus(port: number, origin: string): Promise<string> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [await Deno.readTextFile(CA)],
  });
  try {
    await writeAll(
      conn,
      encoder.encode(
        `GET /chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${origin}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    const chunk = await new ChunkReader(conn).read();
    return decoder.decode(chunk ?? new Uint8Array(0)).split("\r\n")[0]!;
  } finally {
    closeQuietly(conn);
  }
}

Deno.test("chat_server.ts --tls-cert prints tls:// and https:// listening lines and serves the page over https", async () => {
  const { server, httpPort } = await startTlsChat();
  await using _server = server;
  assert.match(server.stdout[0]!, /^listening on tls:\/\/127\.0\.0\.1:\d+$/);
  assert.match(server.stdout[1]!, /^listening on https:\/\/127\.0\.0\.1:\d+\/$/);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(CA)] });
  try {
    const response = await fetch(`https://127.0.0.1:${httpPort}/`, { client });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<script src="chat_page.js" defer>/);
  } finally {
    client.close();
  }
  const status = await server.interrupt();
  assert.equal(status.code, 0);
});

Deno.test({
  name:
    "chat over TLS: openssl s_client, chat_client.ts --tls --ca and a wss:// WebSocket share a room",
  ignore: NO_OPENSSL,
  async fn() {
    const { server, httpPort } = await startTlsChat();
    await using _server = server;
    const openssl = spawn("openssl", [
      "s_client",
      "-quiet",
      "-verify_return_error",
      "-CAfile",
      CA,
      "-connect",
      `127.0.0.1:${server.port}`,
    ], "piped");
    const opensslIn = openssl.child.stdin.getWriter();
    const httpClient = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(CA)] });
    let web: WebSocket | undefined;
    try {
      await openssl.stdout.waitFor(/Pick a nick/);
      await opensslIn.write(encoder.encode("alice\n"));
      await openssl.stdout.waitFor(/\*\*\* You are alice/);

      web = await openSocket(`wss://127.0.0.1:${httpPort}/chat`, httpClient);
      const webLines = inbox(web);
      await webLines.waitFor(/Pick a nick/);
      web.send("carol");
      await webLines.waitFor(/You are carol/);

      const bob = spawn(Deno.execPath(), [
        "run",
        ...TLS_FLAGS,
        "scripts/chat_client.ts",
        "--port",
        String(server.port),
        "--tls",
        "--ca",
        CA,
        "--nick",
        "bob",
      ], "piped");
      await bob.stdout.waitFor(/\*\*\* You are bob/);
      await writeAndClose(bob.child, "hello over tls\n");
      const result = await bob.finish();
      assert.equal(result.code, 0, result.stderr);

      assert.match((await openssl.stdout.waitFor(/<bob> hello over tls/))[0], /<bob>/);
      assert.match(await webLines.waitFor(/<bob> hello over tls/), /^\[\d\d:\d\d\] <bob>/);
      web.send("hi from wss");
      await openssl.stdout.waitFor(/<carol> hi from wss/);
      await opensslIn.write(encoder.encode("/quit\n"));
      await opensslIn.close();
      assert.equal((await openssl.finish()).code, 0);
    } finally {
      if (web !== undefined && web.readyState !== WebSocket.CLOSED) {
        const closed = new Promise((resolve) => web!.onclose = resolve);
        web.close();
        await closed;
      }
      httpClient.close();
      await opensslIn.close().catch(() => {});
      await openssl.finish();
    }
    // bob's line over TLS and carol's over wss:// (alice only picked a nick and quit).
    assert.equal((await server.interrupt()).code, 0);
    assert.equal(server.countLines(/shut down: served \d+ connections, 2 messages/), 1);
  },
});

Deno.test("chat over TLS: the web side refuses another site's Origin with 403, as over ws://", async () => {
  const { server, httpPort } = await startTlsChat();
  await using _server = server;
  assert.match(await upgradeStatus(httpPort, "https://evil.example"), /^HTTP\/1\.1 403 /);
  assert.match(await upgradeStatus(httpPort, "http://evil.example"), /^HTTP\/1\.1 403 /);
  assert.match(await upgradeStatus(httpPort, `https://127.0.0.1:${httpPort}`), /^HTTP\/1\.1 101 /);
});

Deno.test("chat_client.ts explains a TLS chat without --tls, and a self-signed one without --ca", async () => {
  const { server } = await startTlsChat();
  await using _server = server;
  const plain = await runScript("chat_client.ts", ["--port", String(server.port), "--nick", "x"], {
    stdin: new Uint8Array(0),
  });
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /speaks TLS.*try --tls, and --ca FILE/);
  const untrusted = await runScript("chat_client.ts", ["--port", String(server.port), "--tls"], {
    stdin: new Uint8Array(0),
  });
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /TLS handshake .* failed: .*pass its certificate with --ca FILE/);
  const noRead = await runScript("chat_client.ts", ["--port", String(server.port), "--ca", CA], {
    stdin: new Uint8Array(0),
  });
  assert.equal(noRead.code, 1);
  assert.match(noRead.stderr, /run with --allow-read=/);
});

Deno.test("chat_server.ts needs both --tls-cert and --tls-key (exit 2), and says which --allow-read to add (exit 1)", async () => {
  const onlyCert = await runScript("chat_server.ts", ["--tls-cert", CA, "--port", "0"]);
  assert.equal(onlyCert.code, 2);
  assert.match(onlyCert.stderr, /--tls-cert and --tls-key go together/);
  const noRead = await runScript("chat_server.ts", [
    "--port",
    "0",
    "--tls-cert",
    join(FIXTURES, "localhost.crt"),
    "--tls-key",
    join(FIXTURES, "localhost.key"),
  ]);
  assert.equal(noRead.code, 1);
  assert.match(noRead.stderr, /run with --allow-read=/);
  const help = await runScript("chat_server.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(
    decoder.decode(help.stdout),
    /--allow-read=tests\/fixtures scripts\/chat_server.ts[\s\S]*--tls-cert tests\/fixtures\/localhost.crt/,
  );
});

/** The argument lists of the TLS line tools the help names, each trusting the test CA. */
const LINE_TOOLS = [
  {
    name: "ncat --ssl",
    ignore: NO_NCAT,
    // ncat checks DNS names only, not the certificate's IP addresses: connect by name.
    command: (port: number) => ["ncat", "--ssl", "--ssl-trustfile", CA, "localhost", String(port)],
  },
  {
    name: "socat OPENSSL:",
    ignore: NO_SOCAT,
    command: (port: number) => ["socat", "-", `OPENSSL:127.0.0.1:${port},cafile=${CA}`],
  },
];

for (const tool of LINE_TOOLS) {
  Deno.test({
    name: `chat over TLS: ${tool.name} verifies the test certificate and joins`,
    ignore: tool.ignore,
    async fn() {
      const { server } = await startTlsChat();
      await using _server = server;
      const [command, ...args] = tool.command(server.port);
      const client = spawn(command!, args, "piped");
      const stdin = client.child.stdin.getWriter();
      try {
        await client.stdout.waitFor(/Pick a nick/);
        await stdin.write(encoder.encode("dave\n"));
        await client.stdout.waitFor(/\*\*\* You are dave/);
        await stdin.write(encoder.encode("/quit\n"));
        await client.stdout.waitFor(/\*\*\* Bye/);
      } finally {
        await stdin.close().catch(() => {});
        await client.finish();
      }
    },
  });
}

// Regression: the chat closed TLS connections without a close_notify alert, so on Ctrl+C
// `openssl s_client` printed "unexpected eof while reading" and exited 1: a peer cannot tell such
// a close from a truncation. TcpMember now ends a TLS connection with closeWrite() first.
Deno.test({
  name: "chat over TLS: Ctrl+C tells an openssl s_client user and ends TLS cleanly (exit 0)",
  ignore: NO_OPENSSL,
  async fn() {
    const { server } = await startTlsChat();
    await using _server = server;
    const openssl = spawn("openssl", [
      "s_client",
      "-quiet",
      "-CAfile",
      CA,
      "-connect",
      `127.0.0.1:${server.port}`,
    ], "piped");
    const stdin = openssl.child.stdin.getWriter();
    try {
      await openssl.stdout.waitFor(/Pick a nick/);
      await stdin.write(encoder.encode("erin\n"));
      await openssl.stdout.waitFor(/\*\*\* You are erin/);
      assert.equal((await server.interrupt()).code, 0);
      await openssl.stdout.waitFor(/\*\*\* server shutting down/);
    } finally {
      await stdin.close().catch(() => {});
    }
    const result = await openssl.finish();
    assert.doesNotMatch(result.stderr, /unexpected eof/);
    assert.equal(result.code, 0, result.stderr);
  },
});

Deno.test({
  name: "deno task chat-server-tls: one Ctrl+C in a terminal tells a TLS member and exits 0",
  ignore: NO_PTY,
  async fn() {
    await using pty = startOnPty(Deno.execPath(), [
      "task",
      "chat-server-tls",
      "--port",
      "0",
      "--http-port",
      "0",
    ]);
    const listening = parseListeningLine(await pty.waitForLine(/^listening on tls:\/\//))!;
    await pty.waitForLine(/^listening on https:\/\//);
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: listening.port,
      caCerts: [await Deno.readTextFile(CA)],
    });
    try {
      await writeAll(conn, encoder.encode("frank\n"));
      const reader = new ChunkReader(conn);
      let text = "";
      const readUntil = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const chunk = await reader.read();
          if (chunk === null) throw new Error(`closed before ${pattern}: ${text}`);
          text += decoder.decode(chunk);
        }
      };
      await readUntil(/You are frank/);
      await pty.pressCtrlC();
      await readUntil(/\*\*\* server shutting down/);
      assert.equal(await pty.status, 0, pty.lines.join("\n"));
      assert.ok(pty.lines.some((line) => /shut down: served 1 connection/.test(line)));
    } finally {
      closeQuietly(conn);
    }
  },
});
