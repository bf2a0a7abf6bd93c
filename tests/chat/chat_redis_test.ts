import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { type ChatServer, startChatServer } from "../../lib/chat/chat_server.ts";
import { RedisRelay, type RedisRelayOptions } from "../../lib/chat/redis_relay.ts";
import { parseRedisUrl } from "../../lib/redis/redis_address.ts";
import { RedisClient } from "../../lib/redis/redis_client.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { NO_REDIS, type RedisServer, startRedis } from "../helpers/redis_server.ts";
import { runScript, startScript } from "../helpers/script_process.ts";

/** One chat server sharing its rooms through `redis`; its logs go to `logs`. */
interface SharedServer extends AsyncDisposable {
  server: ChatServer;
  relay: RedisRelay;
  logs: string[];
  port: number;
}

async function startShared(
  redis: RedisServer,
  options: RedisRelayOptions = {},
): Promise<SharedServer> {
  const logs: string[] = [];
  const logger = new Logger({ level: "info", write: (line) => logs.push(line) });
  const relay = await RedisRelay.connect(parseRedisUrl(redis.url), {
    reconnectDelay: 20,
    maxReconnectDelay: 200,
    logger,
    ...options,
  });
  const server = startChatServer({ port: 0, registrationTimeout: 0, relay, logger });
  return {
    server,
    relay,
    logs,
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await relay.close();
    },
  };
}

Deno.test({
  name: "Two chat servers over Redis share a room: lines, join counts, /who, /rooms and /msg",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await using a = await startShared(redis);
    await using b = await startShared(redis);
    await using alice = await ChatLineClient.connect(a.port, "alice");
    await using bob = await ChatLineClient.connect(b.port, "bob");
    // The count spans both servers, and alice on A sees bob join on B.
    assert.match(bob.lines.at(-1)!, /\*\*\* bob joined #lobby \(2 here\)/);
    await alice.waitFor(/\*\*\* bob joined #lobby \(2 here\)/);

    await alice.send("hello from A");
    await bob.waitFor(/<alice> hello from A$/);
    await bob.send("/me waves from B");
    await alice.waitFor(/\* bob waves from B$/);

    await alice.send("/who");
    await alice.waitFor(/^\*\*\* 2 in #lobby: alice, bob$/);
    await bob.send("/join games");
    await alice.waitFor(/\*\*\* bob left #lobby \(joined #games\)/);
    await alice.send("/rooms");
    await alice.waitFor(/^\*\*\* 2 rooms: #games \(1\), #lobby \(1\)$/);

    await alice.send("/msg bob psst");
    await bob.waitFor(/\*alice\* psst$/);
    await alice.waitFor(/-> \*bob\* psst$/);
    await bob.send("/msg nobody hi");
    await bob.waitFor(/error: no one is called "nobody"/);

    await bob.send("/quit");
    await bob.rest();
    await alice.send("/who");
    await alice.waitFor(/^\*\*\* 1 in #lobby: alice$/);
  },
});

Deno.test({
  name: "Nicks are unique across chat servers over Redis, ignoring case",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await using a = await startShared(redis);
    await using b = await startShared(redis);
    await using alice = await ChatLineClient.connect(a.port, "alice");
    await using other = await ChatLineClient.connect(b.port);
    await other.send("ALICE");
    await other.waitFor(/error: cannot use nick "ALICE": it is taken/);
    // Lines typed while the claim was being checked are handled after it, in order.
    await other.send("carol");
    await other.send("hi all");
    await alice.waitFor(/<carol> hi all$/);
    await other.send("/nick alice");
    await other.waitFor(/error: cannot use nick "alice": it is taken/);
    // A case-only change keeps the nick; a real change frees the old one everywhere.
    await alice.send("/nick Alice");
    await other.waitFor(/\*\*\* alice is now known as Alice/);
    await alice.send("/nick dave");
    await other.waitFor(/\*\*\* Alice is now known as dave/);
    await other.send("/nick alice");
    await alice.waitFor(/\*\*\* carol is now known as alice/);
  },
});

Deno.test({
  name: "A user joining on any server over Redis gets the same history",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await using a = await startShared(redis, { historySize: 3 });
    await using b = await startShared(redis, { historySize: 3 });
    {
      await using alice = await ChatLineClient.connect(a.port, "alice");
      for (const text of ["one", "two", "three", "four"]) await alice.send(text);
      // The reply comes through Redis after the four lines were stored there.
      await alice.send("/who");
      await alice.waitFor(/\*\*\* 1 in #lobby: alice/);
      await using bob = await ChatLineClient.connect(b.port);
      await bob.send("bob");
      // The last 3 messages, oldest first, said on A, replayed on B.
      await bob.waitFor(/\*\*\* Last 3 messages in #lobby:/);
      assert.match((await bob.next())!, /<alice> two$/);
      assert.match((await bob.next())!, /<alice> three$/);
      assert.match((await bob.next())!, /<alice> four$/);
      await bob.waitFor(/\*\*\* bob joined #lobby \(2 here\)/);
      await bob.send("five");
      await alice.waitFor(/<bob> five$/);
    }
    // Everyone left both servers; the history is in Redis, not in either server.
    await using carol = await ChatLineClient.connect(a.port);
    await carol.send("carol");
    await carol.waitFor(/\*\*\* Last 3 messages in #lobby:/);
    assert.deepEqual(
      [await carol.next(), await carol.next(), await carol.next()].map((line) =>
        line?.replace(/^\[\d\d:\d\d\] /, "")
      ),
      ["<alice> three", "<alice> four", "<bob> five"],
    );
  },
});

Deno.test({
  name: "Redis killed mid-conversation: local chat goes on, one notice each, then reconnect",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await using a = await startShared(redis);
    await using b = await startShared(redis);
    await using alice = await ChatLineClient.connect(a.port, "alice");
    await using anna = await ChatLineClient.connect(a.port, "anna");
    await using bob = await ChatLineClient.connect(b.port, "bob");
    await alice.send("before");
    await bob.waitFor(/<alice> before$/);

    await redis.kill();
    const lost = /\*\*\* lost contact with the other servers/;
    await alice.waitFor(lost);
    await anna.waitFor(lost);
    await bob.waitFor(lost);
    // People on the same server keep talking; /who says it sees this server only.
    await alice.send("during");
    await anna.waitFor(/<alice> during$/);
    await anna.send("/who");
    await anna.waitFor(/^\*\*\* 2 in #lobby: alice, anna \(other servers are unreachable/);

    await redis.restart();
    const back = /\*\*\* reconnected to the other servers/;
    await alice.waitFor(back);
    await anna.waitFor(back);
    await bob.waitFor(back);
    assert.equal(alice.lines.filter((line) => lost.test(line)).length, 1, "one notice each");
    assert.ok(a.logs.some((line) => /reconnected to Redis/.test(line)));
    // Redis came back empty: the servers put their members back before saying so.
    await bob.send("/who");
    await bob.waitFor(/^\*\*\* 3 in #lobby: alice, anna, bob$/);
    await using thief = await ChatLineClient.connect(b.port);
    await thief.send("alice");
    await thief.waitFor(/cannot use nick "alice": it is taken/);
    // Lines flow both ways again. What alice said during the outage never reached B.
    await bob.send("after");
    await alice.waitFor(/<bob> after$/);
    assert.ok(!bob.lines.some((line) => /during/.test(line)));
  },
});

Deno.test({
  name: "chat_server.ts --redis: Redis down at start is an error unless --redis-optional",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await redis.kill();
    const refused = await runScript("chat_server.ts", ["--port", "0", "--redis", redis.url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+/);
    assert.match(refused.stderr, /--redis-optional/);
    const usage = await runScript("chat_server.ts", ["--redis", "http://x"]);
    assert.equal(usage.code, 2);

    await using alone = await startScript("chat_server.ts", [
      "--port",
      "0",
      "--http-port",
      "0",
      "--redis",
      redis.url,
      "--redis-optional",
    ]);
    await alone.waitForLine(/chatting on this server alone until Redis answers/);
    await redis.restart();
    await alone.waitForLine(/connected to Redis at .*: rooms are shared now/);
    const status = await alone.interrupt();
    assert.equal(status.code, 0);
  },
});

Deno.test({
  name: "chat_server.ts --redis: a crashed server's nicks expire after --redis-ttl",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await using a = await startScript("chat_server.ts", [
      "--port",
      "0",
      "--http-port",
      "0",
      "--redis",
      redis.url,
      "--redis-ttl",
      "0.5",
    ]);
    await using b = await startShared(redis);
    {
      await using alice = await ChatLineClient.connect(a.port, "alice");
      await using other = await ChatLineClient.connect(b.port);
      await other.send("alice");
      await other.waitFor(/cannot use nick "alice": it is taken/);
      // Redis announces the expiry itself (keyspace notifications), so nothing polls.
      const expired = Promise.withResolvers<void>();
      await using watcher = await RedisClient.connect(parseRedisUrl(redis.url), {
        onMessage: ({ payload }) => payload === "chat:nick:alice" && expired.resolve(),
      });
      await watcher.command(["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
      watcher.subscribe("__keyevent@0__:expired");
      await watcher.command(["PING"]);
      a.child.kill("SIGKILL"); // a crash: nobody releases alice
      await alice.rest();
      await expired.promise;
      await other.send("alice");
      await other.waitFor(/\*\*\* You are alice/);
    }
  },
});

Deno.test({
  name: "chat_server.ts --redis unix:///PATH works with the permissions --help names",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    const unixFlags = [
      `--allow-net=127.0.0.1,unix:${redis.path}`,
      `--allow-read=${redis.path}`,
      `--allow-write=${redis.path}`,
    ];
    const args = ["--port", "0", "--http-port", "0", "--redis", `unix://${redis.path}`];
    await using a = await startScript("chat_server.ts", args, { denoFlags: unixFlags });
    await using b = await startScript("chat_server.ts", args, { denoFlags: unixFlags });
    {
      await using alice = await ChatLineClient.connect(a.port, "alice");
      await using bob = await ChatLineClient.connect(b.port, "bob");
      await alice.waitFor(/\*\*\* bob joined #lobby \(2 here\)/);
      await bob.send("over a unix socket");
      await alice.waitFor(/<bob> over a unix socket$/);
    }
    assert.equal((await a.interrupt()).code, 0);
    assert.equal((await b.interrupt()).code, 0);
  },
});

Deno.test({
  name: "Lines typed right after a nick over Redis wait for the nick and the join, in order",
  ignore: NO_REDIS,
  async fn() {
    // Regression: a nick claim that leads to a join awaits two answers from the relay; the
    // claim's end used to release the backlog while the join was still waiting, so a /join
    // typed meanwhile started a second join that lost its history and its join notice.
    await using redis = await startRedis();
    await using a = await startShared(redis);
    await using b = await startShared(redis);
    await using bob = await ChatLineClient.connect(b.port, "bob");
    await bob.send("/join games");
    await bob.waitFor(/\*\*\* bob joined #games/);
    await using carol = await ChatLineClient.connect(a.port);
    await carol.sendRaw(new TextEncoder().encode("carol\n/join games\nhi games\n"));
    await carol.waitFor(/\*\*\* carol joined #lobby \(1 here\)/);
    await carol.waitFor(/\*\*\* carol joined #games \(2 here\)/);
    await bob.waitFor(/\*\*\* carol joined #games \(2 here\)/);
    await bob.waitFor(/<carol> hi games$/);
  },
});

Deno.test({
  name: "RedisRelay puts 6,000 members back after Redis restarts empty, within maxPending",
  ignore: NO_REDIS,
  async fn() {
    // Regression: the refresh sent two commands per member at once, so past 5,000 members
    // the client's maxPending (10,000) refused the rest and their nicks and presence expired.
    await using redis = await startRedis();
    await using relay = await RedisRelay.connect(parseRedisUrl(redis.url), {
      reconnectDelay: 20,
      logger: new Logger({ level: "error" }),
    });
    const members = Array.from({ length: 6000 }, (_, i) => ({ nick: `user${i}`, room: "lobby" }));
    const back = Promise.withResolvers<void>();
    relay.attach({
      deliverToRoom: () => {},
      deliverPrivate: () => false,
      notifyAll: (text) => /reconnected/.test(text) && back.resolve(),
      members: () => members,
      nickConflict: () => {},
    });
    await redis.kill();
    await redis.restart();
    await back.promise;
    await using check = await RedisClient.connect(parseRedisUrl(redis.url));
    assert.equal(await check.command(["ZCARD", "chat:members:lobby"]), 6000);
    assert.equal(await check.command(["GET", "chat:nick:user5999"]), relay.id);
    assert.equal(await check.command(["DBSIZE"]), 6000 + 2, "6,000 nicks, the members, the rooms");
  },
});

Deno.test({
  name: "A one-shot client over Redis (lines, then end of stream) still says its line",
  ignore: NO_REDIS,
  async fn() {
    // Regression: `printf 'carol\nhi\n' | nc -N` sent its lines and its FIN together; the
    // session was disconnected at the FIN while the nick claim still waited for Redis, and the
    // waiting lines were dropped (on one server alone they were handled at once).
    await using redis = await startRedis();
    await using a = await startShared(redis);
    await using b = await startShared(redis);
    await using bob = await ChatLineClient.connect(b.port, "bob");
    await using carol = await ChatLineClient.connect(a.port);
    await carol.sendRaw(new TextEncoder().encode("carol\nhi from a one-shot\n"));
    await carol.conn.closeWrite();
    await bob.waitFor(/<carol> hi from a one-shot$/);
    await bob.waitFor(/\*\*\* carol left #lobby \(connection closed\)/);
    const rest = await carol.rest();
    assert.ok(rest.some((line) => /\*\*\* carol joined #lobby \(2 here\)/.test(line)));
  },
});
