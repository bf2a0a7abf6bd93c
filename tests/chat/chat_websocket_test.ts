// The chat server's web side without a browser: the page over plain HTTP, WebSocket members (the
// runtime's own WebSocket client) in the same rooms as TCP members, with the same commands,
// limits, history and sanitising, the Origin policy, and Ctrl+C.
import assert from "node:assert/strict";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { Logger } from "../../lib/cli/log.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import {
  type ChatServer,
  type ChatServerOptions,
  startChatServer,
} from "../../lib/chat/chat_server.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { startPacedTalker } from "../helpers/paced_talker.ts";
import { DEFAULT_WAIT_MS, LineInbox } from "../helpers/line_inbox.ts";
import { runScript, startScript } from "../helpers/script_process.ts";

const encoder = new TextEncoder();

/** A chat member on the runtime's own WebSocket client, as the page is one. */
class WsChatClient implements AsyncDisposable {
  readonly ws: WebSocket;
  /** Resolves with the close event's code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #inbox = new LineInbox("closed");

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.onmessage = (event) => {
      this.#inbox.push(
        typeof event.data === "string" ? event.data : `(binary ${event.data.byteLength})`,
      );
    };
    this.closed = new Promise((resolve) => {
      ws.onclose = (event) => {
        this.#inbox.end();
        resolve({ code: event.code, reason: event.reason });
      };
    });
  }

  /** Every message received so far. */
  get messages(): readonly string[] {
    return this.#inbox.lines;
  }

  /** Opens `ws://127.0.0.1:PORT/chat`; with `nick`, registers and waits until it joined. */
  static async connect(port: number, nick?: string): Promise<WsChatClient> {
    const client = new WsChatClient(new WebSocket(`ws://127.0.0.1:${port}/chat`));
    await new Promise((resolve, reject) => {
      client.ws.onopen = resolve;
      client.ws.onerror = () => reject(new Error("WebSocket failed to open"));
    });
    if (nick !== undefined) {
      client.ws.send(nick);
      await client.waitFor(new RegExp(`\\*\\*\\* ${nick} joined #`));
    }
    return client;
  }

  send(text: string | Uint8Array): void {
    this.ws.send(text);
  }

  /** The next message (after those already returned) that matches `pattern`. */
  waitFor(
    pattern: RegExp,
    skipped?: (line: string) => void,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<string> {
    return this.#inbox.waitFor(pattern, skipped, timeoutMs);
  }

  /** The messages not yet returned, once the connection has closed. */
  async rest(): Promise<string[]> {
    await this.closed;
    return this.#inbox.takeRest();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

async function withServer(
  options: ChatServerOptions,
  body: (server: ChatServer, logs: string[]) => Promise<void>,
): Promise<void> {
  const logs: string[] = [];
  const server = startChatServer({
    port: 0,
    httpPort: 0,
    logger: new Logger({ level: "info", write: (line) => logs.push(line) }),
    ...options,
  });
  try {
    await body(server, logs);
  } finally {
    await server.shutdown();
  }
}

/** Sends a raw HTTP request on a fresh connection and returns the whole response. */
async function httpRequest(port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(conn, encoder.encode(head));
    return await new Response(conn.readable).text();
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
}

function upgradeRequest(port: number, headers: Record<string, string> = {}): string {
  const all = {
    Host: `127.0.0.1:${port}`,
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...headers,
  };
  return `GET /chat HTTP/1.1\r\n${
    Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  }\r\n`;
}

Deno.test("chat server serves its page at GET / and refuses other requests with a reason", async () => {
  await withServer({}, async (server) => {
    const port = server.httpAddr!.port;
    const page = await httpRequest(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    assert.match(page, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(page, /\r\nContent-Type: text\/html; charset=utf-8\r\n/);
    // The page's script and style are same-origin files, the only ones the CSP allows.
    const csp =
      /\r\nContent-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';/;
    assert.match(page, csp);
    assert.match(page, /<script src="chat_page\.js" defer><\/script>/);
    assert.match(page, /<link rel="stylesheet" href="chat_page\.css">/);
    assert.doesNotMatch(page, /<script>|<style>|https?:\/\/(?!127)/);
    const script = await httpRequest(port, `GET /chat_page.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(script, /\r\nContent-Type: text\/javascript; charset=utf-8\r\n/);
    assert.match(script, csp);
    assert.match(script, /new WebSocket\(scheme \+ location\.host \+ "\/chat"\)/);
    assert.doesNotMatch(script, /innerHTML|https?:\/\/(?!127)/);
    const style = await httpRequest(port, `GET /chat_page.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(style, /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/css; charset=utf-8\r\n/);

    const notFound = await httpRequest(port, `GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(
      notFound,
      /^HTTP\/1\.1 404 Not Found\r\n[^]*Nothing at \/x: try \/, \/chat_page\.css, \/chat_page\.js or \/chat\n$/,
    );
    const plainChat = await httpRequest(port, `GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(plainChat, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    const badPath = await httpRequest(
      port,
      upgradeRequest(port).replace("GET /chat", "GET /echo"),
    );
    assert.match(badPath, /^HTTP\/1\.1 404 [^]*No WebSocket endpoint at \/echo: try \/chat\n$/);
  });
});

Deno.test("chat server's Origin policy: other sites get 403, the page's own origin and non-browsers get 101", async () => {
  await withServer({}, async (server, logs) => {
    const port = server.httpAddr!.port;
    const evil = await httpRequest(port, upgradeRequest(port, { Origin: "http://evil.example" }));
    assert.match(
      evil,
      /^HTTP\/1\.1 403 Forbidden\r\n[^]*origin http:\/\/evil\.example is not allowed/,
    );
    const otherPort = await httpRequest(
      port,
      upgradeRequest(port, { Origin: `http://127.0.0.1:${port + 1}` }),
    );
    assert.match(otherPort, /^HTTP\/1\.1 403 /);
    assert.equal(logs.filter((line) => /refused with 403/.test(line)).length, 2);
    assert.equal(server.hub.sessionCount, 0);

    for (const origin of [`http://127.0.0.1:${port}`, undefined]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        const headers: Record<string, string> = origin ? { Origin: origin } : {};
        await writeAll(conn, encoder.encode(upgradeRequest(port, headers)));
        const reader = new ChunkReader(conn);
        const head = await readFirstLine(reader);
        assert.equal(head, "HTTP/1.1 101 Switching Protocols", `origin ${origin}`);
      } finally {
        closeQuietly(conn);
      }
    }
  });
  await withServer({ allowedOrigins: ["https://app.example"] }, async (server) => {
    const port = server.httpAddr!.port;
    const allowed = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(
        allowed,
        encoder.encode(upgradeRequest(port, { Origin: "https://app.example" })),
      );
      assert.equal(
        await readFirstLine(new ChunkReader(allowed)),
        "HTTP/1.1 101 Switching Protocols",
      );
    } finally {
      closeQuietly(allowed);
    }
  });
});

/** Reads until the first CRLF of an HTTP response and returns the status line. */
async function readFirstLine(reader: ChunkReader): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  while (!text.includes("\r\n")) {
    const chunk = await reader.read();
    if (chunk === null) throw new Error(`EOF before a status line: ${text}`);
    text += decoder.decode(chunk);
  }
  return text.slice(0, text.indexOf("\r\n"));
}

Deno.test("a WebSocket member and a TCP member share rooms, commands, history and sanitising", async () => {
  await withServer({}, async (server) => {
    await using tcp = await ChatLineClient.connect(server.addr.port, "bob");
    await tcp.send("said before web joined");
    await using web = await WsChatClient.connect(server.httpAddr!.port);
    assert.match(await web.waitFor(/Welcome/), /^\*\*\* Welcome to the chat\. Pick a nick/);
    web.send("alice");
    await web.waitFor(/^\*\*\* You are alice\./);
    // History is replayed to a WebSocket member too, one message per line.
    await web.waitFor(/^\*\*\* Last 1 message in #lobby:$/);
    assert.match(await web.waitFor(/<bob>/), /^\[\d\d:\d\d\] <bob> said before web joined$/);
    await tcp.waitFor(/\*\*\* alice joined #lobby \(2 here\)/);

    web.send("hello from the web");
    assert.match(await tcp.waitFor(/<alice>/), /^\[\d\d:\d\d\] <alice> hello from the web$/);
    await tcp.send("hello from tcp");
    assert.match(await web.waitFor(/<bob>/), /^\[\d\d:\d\d\] <bob> hello from tcp$/);

    web.send("/who");
    assert.equal(await web.waitFor(/in #lobby/), "*** 2 in #lobby: bob, alice");
    web.send("/msg bob private");
    assert.match(await tcp.waitFor(/\*alice\*/), /\*alice\* private$/);
    await tcp.send("/nick alice");
    assert.match(await tcp.waitFor(/error/), /cannot use nick "alice": it is taken/);

    // Escape sequences and bidi overrides are stripped from what a browser sends, as on TCP;
    // a binary message is decoded with invalid UTF-8 replaced; one message with two lines is
    // two chat lines.
    web.send("\x1b[2J\x1b]0;pwned\x07caf\u00e9 \u202eabc\u009b31m");
    assert.match(await tcp.waitFor(/<alice> caf/), /<alice> caf\u00e9 abc$/);
    web.send(new Uint8Array([...encoder.encode("bin "), 0xff, ...encoder.encode(" ok")]));
    assert.match(await tcp.waitFor(/<alice> bin/), /<alice> bin \ufffd ok$/);
    web.send("line one\nline two\r\n");
    assert.match(await tcp.waitFor(/<alice> line/), /<alice> line one$/);
    assert.match(await tcp.waitFor(/<alice> line/), /<alice> line two$/);

    web.send("/join side");
    await web.waitFor(/\*\*\* alice joined #side/);
    assert.match(await tcp.waitFor(/alice left/), /alice left #lobby \(joined #side\)$/);
    web.send("/quit see you");
    assert.deepEqual(await web.rest(), ["*** Bye"]);
    assert.deepEqual(await web.closed, { code: 1000, reason: "Bye" });
    assert.equal(server.hub.sessionFor("alice"), undefined);
  });
});

Deno.test("a WebSocket member gets the same line limit and flood control as a TCP member", async () => {
  await withServer({ maxLineBytes: 4096, maxLineSkip: 65_536 }, async (server) => {
    await using tcp = await ChatLineClient.connect(server.addr.port, "bob");
    await using web = await WsChatClient.connect(server.httpAddr!.port, "alice");
    web.send("y".repeat(5000));
    assert.equal(
      await web.waitFor(/error/),
      "*** error: line too long (5000 bytes, the limit is 4096); not sent",
    );
    web.send("short one");
    assert.match(await tcp.waitFor(/<alice>/), /<alice> short one$/);

    // Past maxLineSkip the message is refused from its header, as an endless TCP line is.
    web.send("z".repeat(70_000));
    assert.equal((await web.closed).code, 1009);
    assert.match(await tcp.waitFor(/alice left/), /alice left #lobby \(message too big\)$/);
  });
  await withServer({}, async (server) => {
    await using tcp = await ChatLineClient.connect(server.addr.port, "bob");
    await using flooder = await WsChatClient.connect(server.httpAddr!.port, "flooder");
    for (let i = 0; i < 100; i++) flooder.send(`flood ${i}`);
    const rest = await flooder.rest();
    assert.equal(
      rest.filter((line) => /too many lines: the limit is 10 per second/.test(line)).length,
      1,
    );
    assert.equal(rest.at(-1), "*** disconnected: too many lines too fast");
    assert.deepEqual(await flooder.closed, {
      code: 1008,
      reason: "disconnected: too many lines too fast",
    });
    let relayed = 0;
    for (;;) {
      const line = await tcp.waitFor(/<flooder>|flooder left/);
      if (/flooder left #lobby \(flooding\)/.test(line)) break;
      relayed++;
    }
    // The burst of 20, minus the token the nick used.
    assert.equal(relayed, 19);
  });
});

Deno.test("a WebSocket member that never reads is dropped at the TCP member's hard bound, others unaffected", async () => {
  // The same shape as the TCP slow-consumer test: big lines at a high rate, the talker at most
  // WINDOW lines ahead of a listener that keeps up, and one member that stopped reading.
  await withServer({ floodBurst: 100_000, floodRate: 100_000 }, async (server, logs) => {
    await using talker = await ChatLineClient.connect(server.addr.port, "talker");
    await using listener = await WsChatClient.connect(server.httpAddr!.port, "listener");
    const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.httpAddr!.port });
    try {
      await writeAll(stuck, encoder.encode(upgradeRequest(server.httpAddr!.port)));
      // A masked text frame "stuck" (the client side must mask), then never a read again.
      const mask = [1, 2, 3, 4];
      const nick = encoder.encode("stuck").map((byte, i) => byte ^ mask[i % 4]!);
      await writeAll(stuck, new Uint8Array([0x81, 0x80 | nick.length, ...mask, ...nick]));
      await listener.waitFor(/\*\*\* stuck joined/);
      const LINES = 3000;
      const WINDOW = 32;
      const body = "x".repeat(4000);
      const pacer = startPacedTalker(
        (text) => talker.send(text),
        LINES,
        WINDOW,
        (i) => `${i} ${body}`,
      );
      // Sampling (not synchronisation): the most the server ever held for its clients.
      let maxQueued = 0;
      const sampler = setInterval(() => maxQueued = Math.max(maxQueued, server.queuedBytes), 5);
      try {
        for (let i = 0; i < LINES; i++) {
          const line = await listener.waitFor(/<talker> /);
          assert.ok(line.includes(`<talker> ${i} x`), `message ${i} in order`);
          pacer.received(i + 1);
        }
        await pacer.done;
      } finally {
        clearInterval(sampler);
      }
      // waitFor() skipped the notices between the talker's lines; the drop is among them.
      assert.ok(
        listener.messages.some((line) => /\*\*\* stuck left #lobby \(too slow\)$/.test(line)),
      );
      // No wall-clock gap bound: finishing all LINES while the stuck member never reads is
      // the proof (a room that awaited it would freeze for good; each wait has a timeout).
      assert.ok(
        logs.some((line) =>
          /\(web\): Cannot queue output: \d+ bytes exceed the hard limit of 1048576 bytes; disconnecting/
            .test(line)
        ),
        logs.join("\n"),
      );
      assert.ok(
        maxQueued > 0 && maxQueued <= 1_048_576 + WINDOW * 4100,
        `queued ${maxQueued} bytes`,
      );
      assert.equal(server.hub.sessionCount, 2);
    } finally {
      closeQuietly(stuck);
    }
  });
});

Deno.test("a WebSocket member held above the soft bound for the soft timeout is dropped", async () => {
  // A soft bound far below the hard one and a short timeout: the queue sits above the soft
  // bound (but below the hard one) with nothing drained, and the member is dropped by the timer.
  const options = {
    floodBurst: 100_000,
    floodRate: 100_000,
    queueSoftLimit: 64 * 1024,
    queueHardLimit: 64 * 1024 * 1024,
    queueSoftTimeout: 300,
  };
  await withServer(options, async (server, logs) => {
    await using talker = await ChatLineClient.connect(server.addr.port, "talker");
    const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.httpAddr!.port });
    try {
      await writeAll(stuck, encoder.encode(upgradeRequest(server.httpAddr!.port)));
      const mask = [9, 8, 7, 6];
      const nick = encoder.encode("stuck").map((byte, i) => byte ^ mask[i % 4]!);
      await writeAll(stuck, new Uint8Array([0x81, 0x80 | nick.length, ...mask, ...nick]));
      await talker.waitFor(/\*\*\* stuck joined/);
      // Far more than the kernel's buffers hold (and far less than the hard bound), sent until
      // the member is dropped: its queue stays above the soft bound until the timer fires.
      const body = "x".repeat(4000);
      for (let i = 0; i < 5000 && server.hub.sessionFor("stuck") !== undefined; i++) {
        await talker.send(`${i} ${body}`);
      }
      assert.match(await talker.waitFor(/stuck left/), /\*\*\* stuck left #lobby \(too slow\)$/);
      assert.ok(
        logs.some((line) => /more than 65536 bytes queued for 300 ms/.test(line)),
        logs.join("\n"),
      );
    } finally {
      closeQuietly(stuck);
    }
  });
});

Deno.test("chat_server.ts prints both listening lines, and Ctrl+C tells WebSocket and TCP members, then closes with 1001", async () => {
  await using server = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"], {
    denoFlags: ["--allow-net=127.0.0.1"],
  });
  const httpLine = await server.waitForLine(/listening on http:\/\//);
  assert.match(server.stdout[0]!, /^listening on 127\.0\.0\.1:\d+$/);
  assert.match(httpLine, /^listening on http:\/\/127\.0\.0\.1:\d+\/$/);
  const httpPort = Number(httpLine.match(/:(\d+)\/$/)![1]);
  await using tcp = await ChatLineClient.connect(server.port, "bob");
  await using web = await WsChatClient.connect(httpPort, "alice");
  await tcp.waitFor(/alice joined/);

  const status = await server.interrupt();
  assert.equal(status.code, 0);
  // The hub disconnects members one by one, so alice may first see bob leave.
  assert.equal((await web.rest()).at(-1), "*** server shutting down");
  assert.deepEqual(await web.closed, { code: 1001, reason: "server shutting down" });
  assert.deepEqual(await tcp.rest(), ["*** server shutting down"]);
  // One summary at info level; bob and alice are the two connections, no one spoke.
  assert.match(
    server.stderr.find((line) => /shut down:/.test(line)) ?? server.stderr.join("\n"),
    / info\s+shut down: served 2 connections, 0 messages$/,
  );
});

Deno.test("chat_server.ts explains a taken --http-port", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const result = await runScript(
    "chat_server.ts",
    ["--port", "0", "--http-port", String(taken.addr.port)],
    { denoFlags: ["--allow-net=127.0.0.1"] },
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /address already in use: .* \(pick another --http-port, or --http-port 0/,
  );
});
