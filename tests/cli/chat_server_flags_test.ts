import assert from "node:assert/strict";
import {
  CHAT_LIMIT_OPTIONS,
  CHAT_SCALE_OPTIONS,
  CHAT_WEB_OPTIONS,
  chatLimitsFrom,
  chatScaleFrom,
  chatWebFrom,
  explainChatStartError,
  REDIS_START_ADVICE,
} from "../../lib/cli/chat_server_flags.ts";
import { parseCli, UsageError } from "../../lib/cli/cli.ts";
import { ChatListenError } from "../../lib/chat/chat_server.ts";
import { ListenError } from "../../lib/net/net_errors.ts";

const SPEC = {
  name: "chat.ts",
  summary: "A chat.",
  usage: ["deno run chat.ts"],
  options: { ...CHAT_WEB_OPTIONS, ...CHAT_LIMIT_OPTIONS, ...CHAT_SCALE_OPTIONS },
} as const;

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("chatLimitsFrom gives the chat server's defaults when no limit flag is given", () => {
  const { values } = parseCli([], SPEC);
  assert.deepEqual(chatLimitsFrom(values), {
    maxClients: 10_000,
    retryAfter: 5,
    historySize: 20,
    maxNickLength: 20,
    maxLineBytes: 4096,
    maxLineSkip: 65_536,
    floodBurst: 20,
    floodRate: 10,
    floodDisconnectAfter: 40,
    queueHardLimit: 1_048_576,
    queueSoftLimit: 262_144,
    queueSoftTimeout: 10_000,
    registrationTimeout: 60_000,
    idleTimeout: 0,
  });
});

Deno.test("chatLimitsFrom turns seconds into whole milliseconds", () => {
  const { values } = parseCli([
    "--queue-soft-seconds",
    "0.0015",
    "--registration-timeout",
    "2.5",
    "--idle-timeout",
    "0.1",
  ], SPEC);
  const limits = chatLimitsFrom(values);
  assert.equal(limits.queueSoftTimeout, 2);
  assert.equal(limits.registrationTimeout, 2500);
  assert.equal(limits.idleTimeout, 100);
});

Deno.test("chatWebFrom passes the web port and both allow-lists, naming --allow-host", () => {
  const { values } = parseCli(
    ["--http-port", "0", "--allow-origin", "https://a.test", "--allow-host", ".b.test"],
    SPEC,
  );
  assert.deepEqual(chatWebFrom(values), {
    httpPort: 0,
    allowedOrigins: ["https://a.test"],
    allowedHosts: [".b.test"],
    allowHostFlag: "--allow-host",
  });
});

Deno.test("chatScaleFrom reads --redis into relay settings and leaves Redis off without it", () => {
  const { values } = parseCli(
    ["--redis", "redis://127.0.0.1:6390", "--redis-ttl", "0.25", "--history", "7"],
    SPEC,
  );
  const scale = chatScaleFrom(values, { logger: QUIET });
  assert.equal(scale.workers, 1);
  assert.deepEqual(scale.redis, {
    address: { transport: "tcp", hostname: "127.0.0.1", port: 6390 },
    historySize: 7,
    presenceTtl: 250,
    optional: false,
  });
  assert.equal(chatScaleFrom(parseCli([], SPEC).values, { logger: QUIET }).redis, undefined);
});

Deno.test("chatScaleFrom turns a bad --redis or --workers into a UsageError naming the flag", () => {
  const redis = parseCli(["--redis", "http://x"], SPEC).values;
  assert.throws(() => chatScaleFrom(redis, { logger: QUIET }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /^--redis: Cannot parse Redis URL "http:\/\/x"/);
    return true;
  });
  const workers = parseCli(["--workers", "two"], SPEC).values;
  assert.throws(
    () => chatScaleFrom(workers, { logger: QUIET }),
    (error: unknown) => error instanceof UsageError && /--workers two/.test(error.message),
  );
});

Deno.test("explainChatStartError names the flag of the port that could not be bound", () => {
  const taken = (port: number) =>
    new ListenError(new Deno.errors.AddrInUse("in use"), "127.0.0.1", port);
  // startChatServer says which listener failed ...
  assert.match(
    explainChatStartError(new ChatListenError("tcp", taken(7002))),
    /127\.0\.0\.1:7002 is taken \(pick another --port, or --port 0/,
  );
  assert.match(
    explainChatStartError(new ChatListenError("http", taken(8002))),
    /pick another --http-port, or --http-port 0/,
  );
  // ... a worker's error only carries the port.
  const fromWorker = new Error("Cannot start worker: in use", { cause: taken(8002) });
  assert.match(explainChatStartError(fromWorker, 8002), /--http-port/);
  assert.doesNotMatch(explainChatStartError(fromWorker, 9000), /--http-port/);
});

Deno.test("explainChatStartError adds what to do when Redis is down, and keeps other messages", () => {
  const down = new Error("Cannot start worker: Cannot connect to Redis at redis://127.0.0.1:1");
  assert.equal(explainChatStartError(down), `${down.message}\n${REDIS_START_ADVICE}`);
  const other = new ChatListenError("tcp", new Error("something else"));
  assert.equal(explainChatStartError(other), "Cannot listen on the chat port: something else");
});
