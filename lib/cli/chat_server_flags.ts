/**
 * The chat server's own flags (`scripts/chat_server.ts`), their translation into the
 * library's options and the advice its start errors get: the web side
 * ({@linkcode CHAT_WEB_OPTIONS}) and the per-client limits ({@linkcode CHAT_LIMIT_OPTIONS}),
 * both into {@linkcode ChatServerOptions}; sharing the rooms across servers and cores
 * ({@linkcode CHAT_SCALE_OPTIONS}: `--redis` and `--workers`); and
 * {@linkcode explainChatStartError}, which names the flag to change. The listening and TLS
 * flags are the shared ones of cli_options.ts and tls_files.ts.
 *
 * @module
 */

import { UsageError } from "./cli.ts";
import { ChatListenError, type ChatServerOptions } from "../chat/chat_server.ts";
import type { ChatRedisSettings } from "../chat/chat_workers.ts";
import type { ServerLogger } from "../net/logger.ts";
import { explainListenError, ListenError } from "../net/net_errors.ts";
import { resolveWorkerCount } from "../net/worker_pool.ts";
import { parseRedisUrl } from "../redis/redis_address.ts";

/**
 * The web side's flags: its port, and the two checks that keep other sites out (Origin for the
 * WebSocket, Host against DNS rebinding). Spread them into a {@linkcode CliSpec}'s options,
 * put {@linkcode CHAT_WEB_NOTES} in `--help`, and pass the values to {@linkcode chatWebFrom}.
 *
 * @example
 * ```ts
 * import { CHAT_WEB_OPTIONS } from "./chat_server_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CHAT_WEB_OPTIONS["http-port"].default, 8002);
 * assert.equal(CHAT_WEB_OPTIONS["allow-origin"].multiple, true);
 * ```
 */
export const CHAT_WEB_OPTIONS = {
  "http-port": {
    type: "integer",
    default: 8002,
    min: 0,
    max: 65535,
    description: "Port for the web page (/) and its WebSocket (/chat) (0: any free)",
  },
  "allow-origin": {
    type: "string",
    multiple: true,
    valueName: "ORIGIN",
    description: "Also let pages from this origin join, e.g. https://app.example ('*' = any)",
  },
  "allow-host": {
    type: "string",
    multiple: true,
    valueName: "NAME",
    description: "Also serve web requests whose Host names NAME (.NAME: subdomains too)",
  },
} as const;

/**
 * The `--help` lines that explain the checks behind {@linkcode CHAT_WEB_OPTIONS}.
 *
 * @example
 * ```ts
 * import { CHAT_WEB_NOTES } from "./chat_server_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(CHAT_WEB_NOTES.some((line) => line.includes("--allow-origin")));
 * ```
 */
export const CHAT_WEB_NOTES: readonly string[] = [
  "Browsers: the WebSocket accepts the chat's own page (same host:port) and clients without",
  "an Origin header; pages from other origins get 403 unless listed with --allow-origin.",
  "Host check (DNS rebinding): web requests must name this server in Host (its address, or",
  "localhost when bound to loopback); other names get 403 unless listed with --allow-host.",
];

/** The values of {@linkcode CHAT_WEB_OPTIONS} after parsing. */
export interface ChatWebFlagValues {
  /** `--http-port N`. */
  "http-port": number;
  /** `--allow-origin ORIGIN`, repeatable. */
  "allow-origin": string[];
  /** `--allow-host NAME`, repeatable. */
  "allow-host": string[];
}

/** The part of {@linkcode ChatServerOptions} that {@linkcode chatWebFrom} fills in. */
export type ChatWebOptions = Required<
  Pick<ChatServerOptions, "httpPort" | "allowedOrigins" | "allowedHosts" | "allowHostFlag">
>;

/**
 * Turns the parsed web flags into {@linkcode startChatServer}'s options; a refused Host is
 * told to use `--allow-host`.
 *
 * @param values The parsed flags.
 * @returns The web side's options, to spread into {@linkcode ChatServerOptions}.
 *
 * @example
 * ```ts
 * import { chatWebFrom } from "./chat_server_flags.ts";
 * import assert from "node:assert/strict";
 *
 * const web = chatWebFrom({ "http-port": 0, "allow-origin": [], "allow-host": ["chat.test"] });
 * assert.equal(web.httpPort, 0);
 * assert.deepEqual(web.allowedHosts, ["chat.test"]);
 * assert.equal(web.allowHostFlag, "--allow-host");
 * ```
 */
export function chatWebFrom(values: ChatWebFlagValues): ChatWebOptions {
  return {
    httpPort: values["http-port"],
    allowedOrigins: values["allow-origin"],
    allowedHosts: values["allow-host"],
    allowHostFlag: "--allow-host",
  };
}

/**
 * The limits that keep one client from hurting the others: seats, line sizes, flood control,
 * outbound queue bounds and timeouts. Spread them into a {@linkcode CliSpec}'s options and
 * pass the values to {@linkcode chatLimitsFrom}. Times are in seconds, as users type them.
 *
 * @example
 * ```ts
 * import { CHAT_LIMIT_OPTIONS } from "./chat_server_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CHAT_LIMIT_OPTIONS["max-line"].default, 4096);
 * assert.equal(CHAT_LIMIT_OPTIONS["queue-soft-seconds"].valueName, "SECONDS");
 * ```
 */
export const CHAT_LIMIT_OPTIONS = {
  "max-clients": {
    type: "integer",
    default: 10_000,
    min: 1,
    description: "Clients at once, TCP and web together (web: HTTP 503 beyond it)",
  },
  "retry-after": {
    type: "integer",
    default: 5,
    min: 0,
    valueName: "SECONDS",
    description: "The Retry-After a refused web client (503) is told",
  },
  history: { type: "integer", default: 20, min: 0, description: "Messages replayed on join" },
  "max-nick": { type: "integer", default: 20, min: 1, description: "Longest nick" },
  "max-line": {
    type: "integer",
    default: 4096,
    min: 16,
    valueName: "BYTES",
    description: "Longest line relayed (longer: error line)",
  },
  "max-line-skip": {
    type: "integer",
    default: 65_536,
    min: 16,
    valueName: "BYTES",
    description: "Unterminated line (TCP) or message (web) that disconnects",
  },
  "flood-burst": { type: "integer", default: 20, min: 1, description: "Lines in a burst" },
  "flood-rate": { type: "number", default: 10, min: 0.01, description: "Lines per second" },
  "flood-kick": {
    type: "integer",
    default: 40,
    min: 1,
    description: "Refused lines before a flooder is disconnected",
  },
  "queue-hard": {
    type: "integer",
    default: 1_048_576,
    min: 1024,
    valueName: "BYTES",
    description: "Outbound queue bytes that disconnect at once",
  },
  "queue-soft": {
    type: "integer",
    default: 262_144,
    min: 1024,
    valueName: "BYTES",
    description: "Outbound queue bytes that disconnect if held --queue-soft-seconds",
  },
  "queue-soft-seconds": {
    type: "number",
    default: 10,
    min: 0.001,
    valueName: "SECONDS",
    description: "See above",
  },
  "registration-timeout": {
    type: "number",
    default: 60,
    min: 0,
    valueName: "SECONDS",
    description: "Time to pick a nick (0: no limit)",
  },
  "idle-timeout": {
    type: "number",
    default: 0,
    min: 0,
    valueName: "SECONDS",
    description: "Time without input before disconnect (0: off)",
  },
} as const;

/** The values of {@linkcode CHAT_LIMIT_OPTIONS} after parsing. */
export interface ChatLimitFlagValues {
  /** `--max-clients N`. */
  "max-clients": number;
  /** `--retry-after SECONDS`. */
  "retry-after": number;
  /** `--history N`. */
  history: number;
  /** `--max-nick N`. */
  "max-nick": number;
  /** `--max-line BYTES`. */
  "max-line": number;
  /** `--max-line-skip BYTES`. */
  "max-line-skip": number;
  /** `--flood-burst N`. */
  "flood-burst": number;
  /** `--flood-rate N`. */
  "flood-rate": number;
  /** `--flood-kick N`. */
  "flood-kick": number;
  /** `--queue-hard BYTES`. */
  "queue-hard": number;
  /** `--queue-soft BYTES`. */
  "queue-soft": number;
  /** `--queue-soft-seconds SECONDS`. */
  "queue-soft-seconds": number;
  /** `--registration-timeout SECONDS`. */
  "registration-timeout": number;
  /** `--idle-timeout SECONDS`. */
  "idle-timeout": number;
}

/** The part of {@linkcode ChatServerOptions} that {@linkcode chatLimitsFrom} fills in. */
export type ChatLimits = Required<
  Pick<
    ChatServerOptions,
    | "maxClients"
    | "retryAfter"
    | "historySize"
    | "maxNickLength"
    | "maxLineBytes"
    | "maxLineSkip"
    | "floodBurst"
    | "floodRate"
    | "floodDisconnectAfter"
    | "queueHardLimit"
    | "queueSoftLimit"
    | "queueSoftTimeout"
    | "registrationTimeout"
    | "idleTimeout"
  >
>;

/**
 * Turns the parsed limit flags into {@linkcode startChatServer}'s options: seconds become
 * milliseconds, each flag its option. Check `--queue-soft` against `--queue-hard` first, to
 * say it as a usage error (the server's queues throw a `RangeError` for it).
 *
 * @param values The parsed flags.
 * @returns The limits, to spread into {@linkcode ChatServerOptions}.
 *
 * @example
 * ```ts
 * import { CHAT_LIMIT_OPTIONS, chatLimitsFrom } from "./chat_server_flags.ts";
 * import { parseCli } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const spec = { name: "x.ts", summary: "X.", usage: ["x"], options: CHAT_LIMIT_OPTIONS };
 * const { values } = parseCli(["--idle-timeout", "1.5", "--max-line", "100"], spec);
 * const limits = chatLimitsFrom(values);
 * assert.equal(limits.idleTimeout, 1500);
 * assert.equal(limits.maxLineBytes, 100);
 * assert.equal(limits.queueSoftTimeout, 10_000);
 * ```
 */
export function chatLimitsFrom(values: ChatLimitFlagValues): ChatLimits {
  return {
    maxClients: values["max-clients"],
    retryAfter: values["retry-after"],
    historySize: values.history,
    maxNickLength: values["max-nick"],
    maxLineBytes: values["max-line"],
    maxLineSkip: values["max-line-skip"],
    floodBurst: values["flood-burst"],
    floodRate: values["flood-rate"],
    floodDisconnectAfter: values["flood-kick"],
    queueHardLimit: values["queue-hard"],
    queueSoftLimit: values["queue-soft"],
    queueSoftTimeout: Math.round(values["queue-soft-seconds"] * 1000),
    registrationTimeout: Math.round(values["registration-timeout"] * 1000),
    idleTimeout: Math.round(values["idle-timeout"] * 1000),
  };
}

/**
 * The flags that spread one chat over several servers (`--redis`, `--redis-optional`,
 * `--redis-ttl`) and over the cores of one machine (`--workers`); read them with
 * {@linkcode chatScaleFrom}, and put {@linkcode CHAT_SCALE_NOTES} in `--help`.
 *
 * @example
 * ```ts
 * import { CHAT_SCALE_OPTIONS } from "./chat_server_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CHAT_SCALE_OPTIONS.workers.default, "1");
 * assert.equal(CHAT_SCALE_OPTIONS["redis-optional"].type, "boolean");
 * ```
 */
export const CHAT_SCALE_OPTIONS = {
  redis: {
    type: "string",
    valueName: "URL",
    description: "Share rooms with other servers through Redis: redis://HOST:PORT or unix:///PATH",
  },
  "redis-optional": {
    type: "boolean",
    description: "Start alone if Redis is down, and share rooms once it answers",
  },
  workers: {
    type: "string",
    default: "1",
    valueName: "N|auto",
    description: "Worker threads sharing both ports (0 or auto: one per core); see below",
  },
  "redis-ttl": {
    type: "number",
    default: 30,
    min: 0.1,
    valueName: "SECONDS",
    description: "How long a crashed server's nicks stay taken (refreshed every third of it)",
  },
} as const;

/**
 * The `--help` lines that explain {@linkcode CHAT_SCALE_OPTIONS}: what Redis shares and what
 * it does not, and what `--workers` needs.
 *
 * @example
 * ```ts
 * import { CHAT_SCALE_NOTES } from "./chat_server_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(CHAT_SCALE_NOTES.some((line) => line.includes("--unstable-net")));
 * ```
 */
export const CHAT_SCALE_NOTES: readonly string[] = [
  "Redis: every server publishes its rooms' lines and relays the others'; nicks are unique",
  "across servers, /who, /rooms and /msg span them, history is a capped list in Redis.",
  "Pub/sub is at-most-once: lines said while Redis is unreachable stay on their server.",
  "A Unix socket needs --allow-net=unix:/PATH --allow-read=/PATH --allow-write=/PATH.",
  "--workers N: N Web Workers, each listening on both ports with reusePort (Linux only:",
  "elsewhere one server runs); needs --unstable-net and --allow-read=scripts,lib. Rooms,",
  "nicks and history span workers (the main thread owns them; with --redis each worker is",
  "one more Redis server). A crashed worker is restarted; Ctrl+C stops them all.",
];

/** What to do when Redis cannot be reached at start (without `--redis-optional`). */
export const REDIS_START_ADVICE =
  "Start redis-server first, or pass --redis-optional to chat on this server alone.";

/** The values of {@linkcode CHAT_SCALE_OPTIONS} after parsing, plus `--history`. */
export interface ChatScaleFlagValues {
  /** `--redis URL`. */
  redis: string | undefined;
  /** `--redis-optional`. */
  "redis-optional": boolean;
  /** `--workers N|auto`. */
  workers: string;
  /** `--redis-ttl SECONDS`. */
  "redis-ttl": number;
  /** `--history N`: also the length of the room histories kept in Redis. */
  history: number;
}

/** What {@linkcode chatScaleFrom} returns. */
export interface ChatScale {
  /** How many worker threads to start (1: the server runs on the main thread). */
  workers: number;
  /** Where Redis is and how the relay uses it, or `undefined` without `--redis`. */
  redis: ChatRedisSettings | undefined;
}

/** Options for {@linkcode chatScaleFrom}. */
export interface ChatScaleOptions {
  /**
   * Told when `--workers` asks for workers where they are not supported.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/**
 * Reads `--redis` and `--workers`: the Redis address and the relay's settings (seconds become
 * milliseconds), and the number of workers (see {@linkcode resolveWorkerCount}).
 *
 * @param values The parsed flags.
 * @param options Where a fallback to one server is told.
 * @returns The workers and Redis settings.
 * @throws {UsageError} If `--redis` is not a Redis URL (the message starts with `--redis: `)
 *   or `--workers` is not a count.
 *
 * @example
 * ```ts
 * import { chatScaleFrom } from "./chat_server_flags.ts";
 * import { UsageError } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const flags = {
 *   redis: "redis://127.0.0.1:6379",
 *   "redis-optional": false,
 *   workers: "1",
 *   "redis-ttl": 30,
 *   history: 20,
 * };
 * const { workers, redis } = chatScaleFrom(flags);
 * assert.equal(workers, 1);
 * assert.equal(redis?.presenceTtl, 30_000);
 * assert.equal(chatScaleFrom({ ...flags, redis: undefined }).redis, undefined);
 * assert.throws(() => chatScaleFrom({ ...flags, redis: "http://x" }), UsageError);
 * ```
 */
export function chatScaleFrom(
  values: ChatScaleFlagValues,
  options: ChatScaleOptions = {},
): ChatScale {
  let redis: ChatRedisSettings | undefined;
  if (values.redis !== undefined) {
    let address;
    try {
      address = parseRedisUrl(values.redis);
    } catch (error) {
      throw new UsageError(`--redis: ${(error as Error).message}`);
    }
    redis = {
      address,
      historySize: values.history,
      presenceTtl: Math.round(values["redis-ttl"] * 1000),
      optional: values["redis-optional"],
    };
  }
  try {
    return { workers: resolveWorkerCount(values.workers, options), redis };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A start error as advice for the chat server's user: a port that cannot be bound names its
 * flag (`--port` or `--http-port`; the library's advice names none), and Redis that cannot be
 * reached gets {@linkcode REDIS_START_ADVICE}. Takes a {@linkcode ChatListenError} from
 * `startChatServer`, and a `WorkerStartError` from `startChatWorkers`, whose `ListenError`
 * cause only has the port to tell the two listeners apart.
 *
 * @param error What starting the server threw.
 * @param httpPort The `--http-port` value, to recognise a worker's web port.
 * @returns One or two lines, without the `error: ` prefix.
 *
 * @example
 * ```ts
 * import { explainChatStartError } from "./chat_server_flags.ts";
 * import { ChatListenError } from "../chat/chat_server.ts";
 * import { ListenError } from "../net/net_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const taken = new ListenError(new Deno.errors.AddrInUse("in use"), "127.0.0.1", 8002);
 * assert.match(explainChatStartError(new ChatListenError("http", taken)), /--http-port 0/);
 * const worker = new Error("Cannot start worker: in use", { cause: taken });
 * assert.match(explainChatStartError(worker, 8002), /pick another --http-port/);
 * assert.match(explainChatStartError(worker, 8003), /pick another --port/);
 * assert.match(explainChatStartError(new Error("Cannot connect to Redis")), /--redis-optional/);
 * ```
 */
export function explainChatStartError(error: unknown, httpPort?: number): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  let advice = message;
  if (cause instanceof ListenError) {
    const web = error instanceof ChatListenError
      ? error.listener === "http"
      : cause.port === httpPort;
    const flags = { portFlag: web ? "--http-port" : "--port", hostFlag: "--host" };
    advice = explainListenError(cause, cause.hostname, cause.port, flags);
  }
  return /Redis/.test(message) ? `${advice}\n${REDIS_START_ADVICE}` : advice;
}
