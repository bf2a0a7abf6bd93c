import assert from "node:assert/strict";
import { parseRedisUrl } from "../../lib/redis/redis_address.ts";
import {
  RedisClient,
  type RedisMessage,
  RedisUnavailableError,
} from "../../lib/redis/redis_client.ts";
import { RedisReplyError } from "../../lib/redis/resp_decoder.ts";
import { NO_REDIS, startRedis } from "../helpers/redis_server.ts";

/** Collects messages and lets a test wait for the next one. */
function inbox() {
  const messages: RedisMessage[] = [];
  let waiter: PromiseWithResolvers<void> | null = null;
  return {
    messages,
    onMessage(message: RedisMessage) {
      messages.push(message);
      waiter?.resolve();
    },
    async next(): Promise<RedisMessage> {
      while (messages.length === 0) {
        waiter = Promise.withResolvers();
        await waiter.promise;
      }
      return messages.shift()!;
    },
  };
}

Deno.test({
  name: "RedisClient pipelines commands and matches replies by order",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    await using client = await RedisClient.connect(parseRedisUrl(redis.url));
    assert.equal(await client.command(["SET", "k", "v", "NX"]), "OK");
    assert.equal(await client.command(["SET", "k", "w", "NX"]), null, "NX refuses an existing key");
    // 1,000 commands issued in one tick go out together and come back in order.
    const replies = await Promise.all(
      Array.from({ length: 1000 }, () => client.command(["INCR", "counter"])),
    );
    assert.deepEqual(replies, Array.from({ length: 1000 }, (_, i) => i + 1));
    await assert.rejects(client.command(["NOSUCHCOMMAND"]), RedisReplyError);
    assert.equal(
      await client.command(["GET", "k"]),
      "v",
      "an error reply leaves the connection usable",
    );
  },
});

Deno.test({
  name: "RedisClient delivers pub/sub messages beside ordinary replies",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    const box = inbox();
    await using listener = await RedisClient.connect(parseRedisUrl(redis.url), {
      onMessage: box.onMessage,
    });
    await using publisher = await RedisClient.connect(parseRedisUrl(redis.url));
    listener.subscribe("room:a", "room:b");
    // Replies come in order, so once PING answers the subscription is in place.
    assert.equal(await listener.command(["PING"]), "PONG");
    assert.equal(await publisher.command(["PUBLISH", "room:b", "h\u00e9llo"]), 1);
    assert.deepEqual(await box.next(), { channel: "room:b", payload: "h\u00e9llo" });
    listener.unsubscribe("room:b");
    await listener.command(["PING"]);
    assert.equal(await publisher.command(["PUBLISH", "room:b", "gone"]), 0);
    assert.equal(await listener.command(["SET", "x", "1"]), "OK");
  },
});

Deno.test({
  name: "RedisClient fails fast while Redis is down, reconnects and restores its subscriptions",
  ignore: NO_REDIS,
  async fn() {
    await using redis = await startRedis();
    const box = inbox();
    const status: string[] = [];
    let back = Promise.withResolvers<void>();
    const down = Promise.withResolvers<void>();
    await using client = await RedisClient.connect(parseRedisUrl(redis.url), {
      onMessage: box.onMessage,
      reconnectDelay: 20,
      maxReconnectDelay: 100,
      onStatus(up, error) {
        status.push(up ? "up" : `down: ${error?.message}`);
        if (up) back.resolve();
        else down.resolve();
      },
    });
    client.subscribe("room");
    await client.command(["PING"]);
    await redis.kill();
    await down.promise;
    assert.equal(client.connected, false);
    await assert.rejects(client.command(["PING"]), RedisUnavailableError);
    back = Promise.withResolvers();
    await redis.restart();
    await back.promise;
    assert.equal(await client.command(["PING"]), "PONG");
    await using publisher = await RedisClient.connect(parseRedisUrl(redis.url));
    assert.equal(await publisher.command(["PUBLISH", "room", "again"]), 1);
    assert.deepEqual(await box.next(), { channel: "room", payload: "again" });
    assert.equal(status.length, 2);
    assert.match(status[0]!, /^down: Lost the connection to redis:\/\/127\.0\.0\.1:\d+/);
    assert.equal(status[1], "up");
  },
});

Deno.test("RedisClient explains a missing server, a peer that is not Redis and a silent one", async () => {
  // A port nobody listens on (taken from the kernel, then released).
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const free = probe.addr.port;
  probe.close();
  await assert.rejects(
    RedisClient.connect({ transport: "tcp", hostname: "127.0.0.1", port: free }),
    (error: Error) => {
      assert.ok(error instanceof RedisUnavailableError);
      assert.equal(
        error.message,
        `Cannot connect to Redis at redis://127.0.0.1:${free}: connection refused: is redis-server running there?`,
      );
      return true;
    },
  );

  // An HTTP server where Redis was expected: its answer is not RESP.
  using http = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const answered = (async () => {
    using conn = await http.accept();
    await conn.read(new Uint8Array(1024));
    await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
    await conn.read(new Uint8Array(1024)).catch(() => null);
  })();
  await assert.rejects(
    RedisClient.connect({ transport: "tcp", hostname: "127.0.0.1", port: http.addr.port }),
    /Cannot start a session with redis:\/\/127\.0\.0\.1:\d+: .*Cannot decode RESP: unknown type byte "H"/,
  );
  await answered;

  // A peer that accepts and never answers: the reply timeout ends the wait.
  using silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held = (async () => {
    using conn = await silent.accept();
    await conn.read(new Uint8Array(1024));
    await conn.read(new Uint8Array(1024)).catch(() => null);
  })();
  await assert.rejects(
    RedisClient.connect(
      { transport: "tcp", hostname: "127.0.0.1", port: silent.addr.port },
      { timeout: 200 },
    ),
    /no reply within 200 ms/,
  );
  await held;
});
