/**
 * The demo's chat sections: two `nc`-style clients in one room, a browser-side WebSocket
 * client beside a TCP one, and two servers sharing rooms through Redis.
 *
 * @module
 */

import { join } from "node:path";
import { hasRedisServer, startRedisServer } from "../../lib/load/redis_server_process.ts";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import { formatHostPort, parseListeningLine } from "../../lib/net/net_addr.ts";
import {
  encoder,
  expect,
  indent,
  lineReader,
  NET,
  runClient,
  SCRIPTS,
  show,
  startServer,
  withTimeout,
} from "./transcript.ts";

export async function chatRoom(): Promise<void> {
  console.log(
    "\n== Chat room: nicks, rooms and private messages over plain TCP lines ==",
  );
  const server = await startServer("chat_server.ts", [NET], ["--port", "0", "--http-port", "0"]);
  const port = String(server.port);
  show(
    `deno run ${NET} scripts/chat_client.ts --port ${port} --nick alice &   # alice waits`,
  );
  const alice = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      NET,
      join(SCRIPTS, "chat_client.ts"),
      "--port",
      port,
      "--nick",
      "alice",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    // Read alice's output until she is in the lobby, so bob finds her there.
    const lines = new LineDecoder();
    const aliceLines: string[] = [];
    const reader = alice.stdout.getReader();
    while (!aliceLines.some((line) => /alice joined #lobby/.test(line))) {
      const { value, done } = await reader.read();
      if (done) throw new Error("chat_client.ts (alice) exited before joining");
      lines.push(value);
      for (let line; (line = lines.next()) !== null;) aliceLines.push(line);
    }
    const bob = await runClient(
      "chat_client.ts",
      [NET],
      ["--port", port, "--nick", "bob"],
      "hi alice!\n/msg alice see you in #games\n/who\n",
    );
    if (!/\*\*\* 2 in #lobby: alice, bob/.test(bob)) {
      throw new Error("bob did not see alice in /who");
    }
    // alice leaves too; what she saw while bob talked:
    const writer = alice.stdin.getWriter();
    await writer.close();
    for (let chunk; !(chunk = await reader.read()).done;) {
      lines.push(chunk.value);
      for (let line; (line = lines.next()) !== null;) aliceLines.push(line);
    }
    console.log("  alice saw:");
    indent(aliceLines.filter((line) => /bob/.test(line)).join("\n"));
    expect(
      aliceLines.filter((line) => /<bob>|\*bob\*/.test(line)).map((line) => line.slice(8)).join(
        "|",
      ),
      "<bob> hi alice!|*bob* see you in #games",
      "alice got bob's message and his private message",
    );
  } finally {
    await alice.status;
    await server.stop();
  }
}

export async function webChat(): Promise<void> {
  console.log(
    "\n== Web chat: a browser-side WebSocket member and a TCP member in the same room ==",
  );
  const args = ["--port", "0", "--http-port", "0"];
  show(`deno run ${NET} scripts/chat_server.ts ${args.join(" ")} &`);
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", NET, join(SCRIPTS, "chat_server.ts"), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const serverOut = lineReader(server.stdout);
  let bob: Deno.ChildProcess | undefined;
  let alice: WebSocket | undefined;
  try {
    // The server prints two lines: the TCP port for nc, then the web page's.
    const tcpLine = await serverOut.next(/^listening on /);
    const httpLine = await serverOut.next(/^listening on http:\/\//);
    indent(`${tcpLine}\n${httpLine}`);
    const tcpPort = String(parseListeningLine(tcpLine)!.port);
    const web = parseListeningLine(httpLine)!;
    const webUrl = `${web.scheme}://${formatHostPort(web.hostname, web.port)}`;

    show(`deno run ${NET} scripts/chat_client.ts --port ${tcpPort} --nick bob &   # bob, on TCP`);
    bob = new Deno.Command(Deno.execPath(), {
      args: ["run", NET, join(SCRIPTS, "chat_client.ts"), "--port", tcpPort, "--nick", "bob"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    const bobOut = lineReader(bob.stdout);
    const bobIn = bob.stdin.getWriter();
    await bobOut.next(/\*\*\* bob joined #lobby/);

    // What the page at webUrl does, done here with the runtime's own WebSocket client.
    const wsUrl = webUrl.replace(/^http/, "ws") + "/chat";
    show(`# alice opens ${webUrl}/ ; the page speaks to ${wsUrl}, as this process does:`);
    const messages: string[] = [];
    const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    alice = new WebSocket(wsUrl);
    const ws = alice;
    const aliceClosed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
    ws.onmessage = (event) => {
      const line = String(event.data);
      messages.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    };
    const aliceGets = (pattern: RegExp) =>
      withTimeout(
        new Promise<string>((resolve) => {
          const seen = messages.find((line) => pattern.test(line));
          if (seen !== undefined) resolve(seen);
          else waiters.push({ pattern, resolve });
        }),
        `alice waiting for ${pattern}`,
      );
    await withTimeout(
      new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error(`cannot open ${wsUrl}`));
      }),
      "the WebSocket handshake",
    );
    const aliceSays = (line: string) => {
      console.log(`  alice> ${line}`);
      ws.send(line);
    };
    const bobSays = async (line: string) => {
      console.log(`  bob>   ${line}`);
      await bobIn.write(encoder.encode(line + "\n"));
    };

    aliceSays("alice");
    await aliceGets(/\*\*\* alice joined #lobby \(2 here\)/);
    await bobSays("hi alice, this is bob in a terminal");
    const fromBob = await aliceGets(/<bob>/);
    aliceSays("hello bob, from the web page <b>not bold</b>");
    const fromAlice = await bobOut.next(/<alice>/);
    aliceSays("/who");
    const who = await aliceGets(/^\*\*\* \d+ in #lobby/);
    await bobIn.close();
    await aliceGets(/bob left #lobby/);
    await bob.status;

    console.log("  alice (WebSocket) received:");
    indent(messages.filter((line) => /bob|in #lobby/.test(line)).join("\n"));
    console.log("  bob (TCP) received:");
    indent(fromAlice);
    expect(fromBob.slice(8), "<bob> hi alice, this is bob in a terminal", "alice got bob's line");
    expect(
      fromAlice.slice(8),
      "<alice> hello bob, from the web page <b>not bold</b>",
      "bob got alice's line, markup and all (the page shows it as text)",
    );
    expect(who, "*** 2 in #lobby: bob, alice", "one room for both transports");

    show("kill -INT %1   # Ctrl+C: the last line, then Close 1001 to the WebSocket member");
    server.kill("SIGINT");
    const closed = await withTimeout(aliceClosed, "the close of alice's WebSocket");
    indent(`alice: ${messages.at(-1)}\nalice: closed with ${closed.code} ${closed.reason}`);
    expect(String(closed.code), "1001", "close code on shutdown");
    const status = await server.status;
    if (status.code !== 0) throw new Error(`chat_server.ts exited with ${status.code}`);
  } finally {
    if (alice !== undefined && alice.readyState !== WebSocket.CLOSED) alice.close();
    try {
      server.kill("SIGINT");
    } catch { /* already exited */ }
    try {
      bob?.kill();
    } catch { /* already exited */ }
    await Promise.all([server.status, bob?.status]);
  }
}

export async function chatOverRedis(): Promise<void> {
  console.log("\n== Chat over Redis: two chat servers, one Redis, a user on each ==");
  if (!(await hasRedisServer())) {
    console.log("  skipped: redis-server is not installed (Debian: apt-get install redis-server)");
    return;
  }
  show("redis-server --port PORT --save '' &   # a throwaway Redis on 127.0.0.1");
  await using redis = await startRedisServer();
  indent(`ready at ${redis.url}`);
  const args = ["--port", "0", "--http-port", "0", "--redis", redis.url];
  const serverA = await startServer("chat_server.ts", [NET], args);
  const serverB = await startServer("chat_server.ts", [NET], args);
  const users: Deno.ChildProcess[] = [];
  /** Starts chat_client.ts as `nick` on `port`; returns its input and its output lines. */
  const user = (nick: string, port: number) => {
    show(`deno run ${NET} scripts/chat_client.ts --port ${port} --nick ${nick} &`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", NET, join(SCRIPTS, "chat_client.ts"), "--port", String(port), "--nick", nick],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    users.push(child);
    const input = child.stdin.getWriter();
    return {
      out: lineReader(child.stdout),
      say: async (line: string) => {
        console.log(`  ${nick}> ${line}`);
        await input.write(encoder.encode(line + "\n"));
      },
      quit: () => input.close(),
    };
  };
  try {
    const alice = user("alice", serverA.port);
    await alice.out.next(/\*\*\* alice joined #lobby/);
    const bob = user("bob", serverB.port);
    const joined = await alice.out.next(/\*\*\* bob joined #lobby/);
    await bob.say("hi alice, I am on the other server");
    const heard = await alice.out.next(/<bob>/);
    await alice.say("/who");
    const who = await alice.out.next(/^\*\*\* \d+ in #lobby/);
    await alice.say("/msg bob private, across servers");
    const whispered = await bob.out.next(/\*alice\*/);
    console.log("  alice (server A) received:");
    indent([joined, heard, who].join("\n"));
    console.log("  bob (server B) received:");
    indent(whispered);
    expect(joined.slice(8), "*** bob joined #lobby (2 here)", "the room spans both servers");
    expect(heard.slice(8), "<bob> hi alice, I am on the other server", "alice got bob's line");
    expect(who, "*** 2 in #lobby: alice, bob", "/who lists both servers' members");
    expect(whispered.slice(8), "*alice* private, across servers", "bob got alice's /msg");
    await alice.quit();
    await bob.quit();
  } finally {
    await Promise.all(users.map((child) => child.status));
    await serverA.stop();
    await serverB.stop();
    show("kill -INT %2 %3; kill %1   # both chat servers, then Redis");
  }
}
