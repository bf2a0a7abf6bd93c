import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import {
  type ChatServer,
  type ChatServerOptions,
  startChatServer,
} from "../../lib/chat/chat_server.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { missingTool } from "../helpers/external_tool.ts";
import { startPacedTalker } from "../helpers/paced_talker.ts";
import { runScript, startScript } from "../helpers/script_process.ts";

const NO_NC = await missingTool("nc", ["-h"]);

const encoder = new TextEncoder();

/** Starts an in-process server on a free port, logging into `logs`. */
function startServer(options: ChatServerOptions = {}, logs: string[] = []): ChatServer {
  return startChatServer({
    port: 0,
    logger: new Logger({ level: "warn", write: (line) => logs.push(line) }),
    ...options,
  });
}

async function withServer(
  options: ChatServerOptions,
  body: (server: ChatServer, logs: string[]) => Promise<void>,
): Promise<void> {
  const logs: string[] = [];
  const server = startServer(options, logs);
  try {
    await body(server, logs);
  } finally {
    await server.shutdown();
  }
}

/** Asks for /who and returns the chat lines (with a time stamp) that arrived before the reply. */
async function drainUntilWho(client: ChatLineClient): Promise<string[]> {
  await client.send("/who");
  const seen: string[] = [];
  await client.waitFor(/^\*\*\* \d+ in #/, (line) => seen.push(line));
  return seen.filter((line) => /^\[\d\d:\d\d\] <[^>]+> /.test(line));
}

for (const count of [2, 20, 200]) {
  Deno.test(`chat server delivers every message to every other member exactly once, in order (${count} clients)`, async () => {
    await withServer({}, async (server) => {
      const clients: ChatLineClient[] = [];
      try {
        for (let i = 0; i < count; i += 25) {
          const batch = Array.from(
            { length: Math.min(25, count - i) },
            (_, k) => ChatLineClient.connect(server.addr.port, `c${i + k}`),
          );
          clients.push(...await Promise.all(batch));
        }
        const PER_CLIENT = 5;
        await Promise.all(clients.map(async (client, i) => {
          for (let seq = 0; seq < PER_CLIENT; seq++) await client.send(`m ${i} ${seq}`);
        }));
        await Promise.all(clients.map(async (client, me) => {
          const next = new Array<number>(count).fill(0);
          let received = 0;
          while (received < (count - 1) * PER_CLIENT) {
            const line = await client.next();
            const match = line?.match(/^\[\d\d:\d\d\] <c(\d+)> m (\d+) (\d+)$/);
            if (!match) continue;
            const [sender, claimed, seq] = [Number(match[1]), Number(match[2]), Number(match[3])];
            assert.equal(sender, claimed, "the nick matches the sender");
            assert.notEqual(sender, me, "no echo to the sender");
            assert.equal(seq, next[sender], `c${me} got c${sender}'s messages out of order`);
            next[sender] = seq + 1;
            received++;
          }
          // Anything left over before the /who reply would be a duplicate.
          assert.deepEqual(await drainUntilWho(client), []);
        }));
      } finally {
        for (const client of clients) await client[Symbol.asyncDispose]();
      }
    });
  });
}

Deno.test("chat server keeps rooms apart and /msg private", async () => {
  await withServer({}, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "alice");
    await using bob = await ChatLineClient.connect(server.addr.port, "bob");
    await using carol = await ChatLineClient.connect(server.addr.port, "carol");
    await carol.send("/join side");
    await carol.waitFor(/\*\*\* carol joined #side/);
    await alice.send("lobby only");
    assert.match(await bob.waitFor(/<alice>/), /<alice> lobby only$/);
    await alice.send("/msg bob just for you");
    assert.match(await bob.waitFor(/\*alice\*/), /\*alice\* just for you$/);
    await carol.send("side only");
    await carol.send("/msg BOB hello from the side");
    assert.match(await bob.waitFor(/\*carol\*/), /\*carol\* hello from the side$/);
    assert.deepEqual(await drainUntilWho(carol), []);
    const seenByAlice: string[] = [];
    await alice.send("/who");
    await alice.waitFor(/^\*\*\* 2 in #lobby: alice, bob$/, (line) => seenByAlice.push(line));
    assert.equal(seenByAlice.some((line) => /side only|hello from the side/.test(line)), false);
  });
});

Deno.test("chat server drops a client that never reads while the others keep up, with memory bounded", async () => {
  // Big lines at a high rate fill the stuck client's kernel buffers and then
  // its 1 MiB queue quickly; flood control is raised so one talker can do it.
  // The talker keeps at most WINDOW lines ahead of the listener: a reader that
  // keeps up, as opposed to the stuck one (this process runs both the server
  // and the listener, so an unpaced talker would outrun the listener too).
  await withServer({ floodBurst: 100_000, floodRate: 100_000 }, async (server, logs) => {
    await using talker = await ChatLineClient.connect(server.addr.port, "talker");
    await using listener = await ChatLineClient.connect(server.addr.port, "listener");
    // The stuck client registers, then never reads a byte again.
    const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    try {
      await writeAll(stuck, encoder.encode("stuck\n"));
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
      const notices: string[] = [];
      // Sampling (not synchronisation): the most the server ever held for its clients.
      let maxQueued = 0;
      const sampler = setInterval(() => maxQueued = Math.max(maxQueued, server.queuedBytes), 5);
      // Once dropped, the stuck client starts reading: it should find whole
      // lines and then the notice, sent after the write that was in flight.
      let stuckOutput: Promise<string> | undefined;
      const onNotice = (notice: string) => {
        notices.push(notice);
        if (/stuck left/.test(notice)) stuckOutput = new Response(stuck.readable).text();
      };
      for (let i = 0; i < LINES; i++) {
        const line = await listener.waitFor(/<talker> /, onNotice);
        assert.ok(line.includes(`<talker> ${i} x`), `message ${i} in order`);
        pacer.received(i + 1);
      }
      await pacer.done;
      clearInterval(sampler);
      // 12 MB were sent: more than the kernel buffers (about 4 MB here) plus the 1 MiB queue.
      assert.match(notices.join("\n"), /\*\*\* stuck left #lobby \(too slow\)/);
      const stuckLines = (await stuckOutput!).split("\n");
      assert.equal(stuckLines.at(-1), "", "the stream ends with a whole line");
      assert.equal(
        stuckLines.at(-2),
        "*** disconnected: you are not reading your messages fast enough",
      );
      assert.ok(
        stuckLines.slice(4, -2).every((line) =>
          /^\[\d\d:\d\d\] (<talker> \d+ x{4000}|\*\*\* )/.test(line)
        ),
      );
      // A room that awaited the stuck socket would freeze for good: the
      // listener got all LINES while the stuck client never read, each wait
      // bounded by waitFor's timeout. (No wall-clock gap bound: a loaded
      // machine may pause, a frozen room never resumes.)
      assert.ok(
        logs.some((line) => /exceed the hard limit of 1048576 bytes/.test(line)),
        logs.join("\n"),
      );
      assert.equal(server.hub.sessionCount, 2);
      // Unbounded, the stuck client's queue alone would have reached about 7 MB
      // (12 MB sent, minus what the kernel buffers took).
      assert.ok(
        maxQueued > 0 && maxQueued <= 1_048_576 + WINDOW * 4096,
        `queued ${maxQueued} bytes`,
      );
      assert.ok(server.queuedBytes < 65_536, `still queued: ${server.queuedBytes} bytes`);
    } finally {
      closeQuietly(stuck);
    }
  });
});

Deno.test("chat server refuses a flood with a notice, then disconnects the flooder", async () => {
  await withServer({}, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "alice");
    await using flooder = await ChatLineClient.connect(server.addr.port, "flooder");
    const lines = Array.from({ length: 100 }, (_, i) => `flood ${i}\n`).join("");
    await flooder.sendRaw(encoder.encode(lines));
    const rest = await flooder.rest();
    assert.equal(
      rest.filter((line) => /too many lines: the limit is 10 per second/.test(line)).length,
      1,
    );
    assert.equal(rest.at(-1), "*** disconnected: too many lines too fast");
    const relayed: string[] = [];
    await alice.waitFor(/\*\*\* flooder left #lobby \(flooding\)/, (line) => relayed.push(line));
    // The burst of 20, minus the token the nick used; that token may have come
    // back if the machine took over 0.1 s between the nick and the flood (10
    // per second), but never more than the burst.
    const count = relayed.filter((line) => /<flooder> flood \d+$/.test(line)).length;
    assert.ok(count === 19 || count === 20, `${count} flood lines relayed`);
  });
});

Deno.test("chat server answers an oversized line with an error and disconnects an endless one", async () => {
  await withServer({ maxLineBytes: 4096, maxLineSkip: 65_536 }, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "alice");
    await using bob = await ChatLineClient.connect(server.addr.port, "bob");
    await bob.send("y".repeat(5000));
    assert.match(
      await bob.waitFor(/error/),
      /^\*\*\* error: line too long \(\d+ bytes, the limit is 4096\); not sent$/,
    );
    await bob.send("short one");
    assert.match(await alice.waitFor(/<bob>/), /<bob> short one$/);
    // 100 KB with no newline at all: the server stops listening and hangs up.
    await bob.sendRaw(new Uint8Array(100_000).fill(0x7a)).catch(() => {});
    const rest = await bob.rest();
    assert.match(
      rest.join("\n"),
      /a line longer than 65536 bytes without a newline; disconnecting/,
    );
    const seen: string[] = [];
    await alice.waitFor(/\*\*\* bob left/, (line) => seen.push(line));
    assert.equal(seen.some((line) => line.includes("zzz")), false);
  });
});

Deno.test("chat server strips escape sequences and bidi overrides and replaces invalid UTF-8", async () => {
  await withServer({}, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "alice");
    await using bob = await ChatLineClient.connect(server.addr.port, "bob");
    const evil = new Uint8Array([
      ...encoder.encode("\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07caf\u00e9 "),
      0xfe, // never in UTF-8 (0xff would be Telnet's IAC: the TCP port speaks Telnet)
      0xc3, // a truncated two-byte sequence
      ...encoder.encode(" \u202eabc\u009b31m \u{1F600}\r\n"),
    ]);
    await bob.sendRaw(evil);
    const line = await alice.waitFor(/<bob>/);
    assert.match(line, /<bob> caf\u00e9 \ufffd\ufffd abc \u{1F600}$/u);
  });
});

Deno.test("chat server rejects a nick that is taken, in any case, until it is free", async () => {
  await withServer({}, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "Alice");
    await using other = await ChatLineClient.connect(server.addr.port);
    await other.send("alice");
    assert.equal(await other.waitFor(/error/), '*** error: cannot use nick "alice": it is taken');
    await other.send("/nick ALICE");
    assert.match(await other.waitFor(/error/), /it is taken/);
    await alice.send("/quit");
    assert.deepEqual(await alice.rest(), ["*** Bye"]);
    await other.send("alice");
    await other.waitFor(/^\*\*\* You are alice\./);
  });
});

Deno.test("chat server drops a partial line when its client vanishes mid-line", async () => {
  await withServer({}, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "alice");
    const bob = await ChatLineClient.connect(server.addr.port, "bob");
    await bob.sendRaw(encoder.encode("complete\nhalf a li"));
    await alice.waitFor(/<bob> complete$/);
    await bob[Symbol.asyncDispose]();
    const seen: string[] = [];
    assert.match(
      await alice.waitFor(/\*\*\* bob left/, (line) => seen.push(line)),
      /bob left #lobby \(connection closed\)$/,
    );
    assert.deepEqual(seen, []);
    assert.equal(server.hub.sessionFor("bob"), undefined);
  });
});

/** Sends `bytes` on a new connection to `port` and returns everything read until the server closes. */
async function exchange(port: number, bytes: Uint8Array): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, bytes);
  let text = "";
  const buffer = new Uint8Array(4096);
  const utf8 = new TextDecoder();
  for (let n; (n = await conn.read(buffer)) !== null;) {
    text += utf8.decode(buffer.subarray(0, n), { stream: true });
  }
  return text;
}

// Regression (issue 10, section 2): the greeting went out before anything was read, so a
// browser pointed at the TCP port read "*** Welcome" where a status line belongs and showed
// its own "invalid response" page. The session now waits briefly for a client that speaks
// first and answers an HTTP request in HTTP, with the web page's URL.
Deno.test("chat server answers an HTTP request on the TCP port with a real HTTP 400 naming the web page", async () => {
  const request = encoder.encode(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\nAccept: text/html\r\n\r\n",
  );
  await withServer({ httpPort: 0 }, async (server) => {
    const response = await exchange(server.addr.port, request);
    assert.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(response, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
    assert.ok(
      response.endsWith(
        "\r\n\r\nThis port speaks the chat's line protocol (nc, telnet), not HTTP: " +
          `the web chat is at http://127.0.0.1:${server.httpAddr!.port}/\n`,
      ),
      response,
    );
    assert.equal(server.hub.sessionCount, 0);
  });
  await withServer({}, async (server) => {
    const response = await exchange(server.addr.port, request);
    assert.match(response, /^HTTP\/1\.1 400 Bad Request\r\n[^]*the web chat is off: start /);
  });
});

Deno.test("chat server answers a TLS hello with one error line, no greeting, and closes", async () => {
  await withServer({}, async (server) => {
    // The start of a TLS 1.2 ClientHello record.
    const text = await exchange(
      server.addr.port,
      new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
    );
    assert.equal(text, "*** error: this chat speaks plain text, not TLS\n");
    assert.equal(server.hub.sessionCount, 0);
  });
});

Deno.test("chat server refuses clients over --max-clients with one line", async () => {
  await withServer({ maxClients: 2 }, async (server) => {
    await using a = await ChatLineClient.connect(server.addr.port, "a");
    await using b = await ChatLineClient.connect(server.addr.port, "b");
    await using c = await ChatLineClient.connect(server.addr.port);
    assert.deepEqual(await c.rest(), ["*** error: the chat is full, try again later"]);
    await a.send("still fine");
    assert.match(await b.waitFor(/<a>/), /still fine$/);
  });
});

Deno.test("chat server disconnects a client that never picks a nick", async () => {
  await withServer({ registrationTimeout: 100 }, async (server) => {
    await using silent = await ChatLineClient.connect(server.addr.port);
    assert.equal((await silent.rest()).at(-1), "*** disconnected: no nick chosen within 0.1 s");
  });
});

Deno.test("chat server disconnects a registered client that stays silent past the idle timeout", async () => {
  // The idle timeout is 1 s while bob talks every 50 ms: bob is never idle
  // that long even on a loaded machine, alice always is.
  await withServer({ idleTimeout: 1000 }, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "alice");
    await using bob = await ChatLineClient.connect(server.addr.port, "bob");
    // bob keeps talking, alice does not: only alice is timed out.
    const chatting = setInterval(() => bob.send("still here").catch(() => {}), 50);
    try {
      assert.equal((await alice.rest()).at(-1), "*** disconnected: no input for 1 s");
      assert.match(await bob.waitFor(/alice left/), /alice left #lobby \(idle timeout\)$/);
      assert.equal(server.hub.sessionFor("bob")?.closed, false);
    } finally {
      clearInterval(chatting);
    }
  });
});

Deno.test("chat server works over IPv6 loopback", async () => {
  await withServer({ hostname: "::1" }, async (server) => {
    const conn = await Deno.connect({ hostname: "::1", port: server.addr.port });
    const client = new Response(conn.readable).text();
    await writeAll(conn, encoder.encode("alice\n/quit\n"));
    assert.match(await client, /\*\*\* You are alice\.[\s\S]*\*\*\* Bye\n$/);
  });
});

Deno.test("chat_server.ts with nc: real clients chat, then Ctrl+C tells everyone and exits 0", {
  ignore: NO_NC,
}, async () => {
  await using server = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"], {
    denoFlags: ["--allow-net=127.0.0.1"],
  });
  await using alice = await ChatLineClient.connect(server.port, "alice");
  // nc -N sends its stdin, half-closes at EOF, and prints what the server sends until it closes.
  const nc = new Deno.Command("nc", {
    args: ["-N", "127.0.0.1", String(server.port)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = nc.stdin.getWriter();
  await writer.write(encoder.encode("bob\nhello from nc\r\n/me waves\n"));
  assert.match(await alice.waitFor(/<bob>/), /^\[\d\d:\d\d\] <bob> hello from nc$/);
  assert.match(await alice.waitFor(/\* bob/), /\* bob waves$/);
  await alice.send("hi bob");
  await writer.close();
  const output = new TextDecoder().decode((await nc.output()).stdout);
  assert.match(output, /\*\*\* You are bob\./);
  assert.match(output, /\[\d\d:\d\d\] <alice> hi bob\n/);
  await alice.waitFor(/bob left #lobby \(connection closed\)/);

  const status = await server.interrupt();
  assert.equal(status.code, 0);
  assert.deepEqual(await alice.rest(), ["*** server shutting down"]);
});

Deno.test("chat_server.ts prints --help and exits 0; a bad flag exits 2", async () => {
  const help = await runScript("chat_server.ts", ["--help"], { denoFlags: [] });
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /--max-clients/);
  const bad = await runScript("chat_server.ts", ["--flood-rate", "0"], { denoFlags: [] });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--flood-rate/);
});

Deno.test("chat_client.ts relays a scripted conversation and exits 0 when the server closes", async () => {
  await withServer({}, async (server) => {
    await using alice = await ChatLineClient.connect(server.addr.port, "alice");
    const run = runScript(
      "chat_client.ts",
      ["--port", String(server.addr.port), "--nick", "bob"],
      { denoFlags: ["--allow-net=127.0.0.1"], stdin: encoder.encode("hello alice\n/who\n") },
    );
    assert.match(await alice.waitFor(/<bob>/), /<bob> hello alice$/);
    const result = await run;
    assert.equal(result.code, 0, result.stderr);
    const stdout = new TextDecoder().decode(result.stdout);
    assert.match(stdout, /^\*\*\* You are bob\./m);
    assert.match(stdout, /^\*\*\* 2 in #lobby: alice, bob$/m);
    assert.doesNotMatch(result.stderr, /connection closed by the server/);
  });
});

Deno.test("chat_client.ts explains an unreachable server and exits 1", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const result = await runScript("chat_client.ts", ["--port", String(port)], {
    denoFlags: ["--allow-net=127.0.0.1"],
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`connection refused: is the server running on 127.0.0.1:${port}\\?`),
  );
});
