/**
 * Chat rooms shared by several chat servers through Redis: pub/sub carries what is said,
 * keys with a time to live hold who is where, and a capped list holds each room's history.
 *
 * @module
 */

import type { ChatRoomInfo } from "./chat_session.ts";
import type { ChatRelay, ChatRelayJoin, ChatRelaySink } from "./chat_relay.ts";
import { type ServerLogger, STDERR_LOGGER } from "../net/logger.ts";
import { formatRedisAddress, type RedisAddress } from "../redis/redis_address.ts";
import { RedisClient, type RedisMessage, RedisUnavailableError } from "../redis/redis_client.ts";
import type { RespValue } from "../redis/resp_decoder.ts";
import {
  isLine,
  parseHistory,
  REFRESH_NICK,
  RELEASE_NICK,
  SAY,
  strings,
} from "./_redis_relay_wire.ts";

/** Options for {@linkcode RedisRelay.connect}. */
export interface RedisRelayOptions {
  /**
   * Messages kept in each room's shared history (the hub's `historySize`).
   *
   * @default {20}
   */
  historySize?: number;
  /**
   * Milliseconds a server's nicks and presence live in Redis unless it refreshes them (it
   * does every third of this): how long a crashed server's nicks stay taken.
   *
   * @default {30000}
   */
  presenceTtl?: number;
  /**
   * Milliseconds a room's history is kept after its last message.
   *
   * @default {86400000}
   */
  historyTtl?: number;
  /**
   * Prefix of every key and channel, so several chats can share one Redis.
   *
   * @default {"chat:"}
   */
  keyPrefix?: string;
  /**
   * Start even if Redis is unreachable (the chat is then this server's alone) and join the
   * others once Redis answers.
   *
   * @default {false}
   */
  optional?: boolean;
  /**
   * Milliseconds to wait for a connection and for each reply.
   *
   * @default {2000}
   */
  timeout?: number;
  /**
   * The first pause between reconnection attempts, doubled up to `maxReconnectDelay`.
   *
   * @default {100}
   */
  reconnectDelay?: number;
  /**
   * The longest pause between reconnection attempts, in milliseconds.
   *
   * @default {5000}
   */
  maxReconnectDelay?: number;
  /**
   * Where losing and regaining Redis is logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** /rooms lists at most this many rooms. */
const MAX_ROOMS = 1000;
/**
 * The refresh sends this many commands, then waits for their replies before the next ones, so
 * that 10,000 members stay well below the client's `maxPending`.
 */
const REFRESH_CHUNK = 1000;
/** "Redis is falling behind" is logged at most this often, in ms. */
const DROP_WARNING_EVERY = 10_000;

/**
 * A {@linkcode ChatRelay} over Redis. Keys and channels (with the default prefix `chat:`):
 *
 * - `chat:nick:<nick lower-cased>`: the id of the server holding the nick, `SET NX` with a
 *   time to live that the server refreshes for its members, so a crashed server's nicks expire.
 * - `chat:members:<room>`: a sorted set of nicks scored by when they expire; `/who` reads the
 *   unexpired ones. `chat:rooms`: the same for room names, for `/rooms`.
 * - `chat:history:<room>`: the last messages, newest first (`LPUSH` + `LTRIM`).
 * - channel `chat:room:<room>`: lines said in the room, subscribed while it has local members;
 *   channel `chat:server:<id>`: private messages for this server's members.
 *
 * Pub/sub is at-most-once: what is published while a server is cut off from Redis never
 * reaches it, and what it publishes meanwhile reaches only its own members.
 *
 * @example Two servers' relays (see startChatServer's `relay` option)
 * ```ts ignore
 * import { RedisRelay } from "./redis_relay.ts";
 * import { startChatServer } from "./chat_server.ts";
 * import { parseRedisUrl } from "../redis/redis_address.ts";
 *
 * const relay = await RedisRelay.connect(parseRedisUrl("redis://127.0.0.1:6379"));
 * const server = startChatServer({ port: 0, relay });
 * await server.shutdown();
 * await relay.close();
 * ```
 */
export class RedisRelay implements ChatRelay {
  /** This server's id, random per start. */
  readonly id: string = crypto.randomUUID().slice(0, 8);
  #address: RedisAddress;
  #client: RedisClient | null = null;
  #sink: ChatRelaySink | undefined;
  #log: ServerLogger;
  #historySize: number;
  #ttl: number;
  #historyTtl: number;
  #prefix: string;
  #clientOptions: { timeout: number; reconnectDelay: number; maxReconnectDelay: number };
  /** Local members per room: a room's channel is subscribed while this is above 0. */
  #localCounts = new Map<string, number>();
  #refreshTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #stop = new AbortController();
  #connecting: Promise<void> | undefined;
  #dropped = 0;
  #lastDropWarning = -Infinity;

  private constructor(address: RedisAddress, options: RedisRelayOptions) {
    this.#address = address;
    this.#log = options.logger ?? STDERR_LOGGER;
    this.#historySize = options.historySize ?? 20;
    this.#ttl = options.presenceTtl ?? 30_000;
    this.#historyTtl = options.historyTtl ?? 86_400_000;
    this.#prefix = options.keyPrefix ?? "chat:";
    this.#clientOptions = {
      timeout: options.timeout ?? 2000,
      reconnectDelay: options.reconnectDelay ?? 100,
      maxReconnectDelay: options.maxReconnectDelay ?? 5000,
    };
    for (const key of ["presenceTtl", "historyTtl", "timeout"] as const) {
      const value = key === "presenceTtl"
        ? this.#ttl
        : key === "historyTtl"
        ? this.#historyTtl
        : this.#clientOptions.timeout;
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Cannot create Redis relay: ${key} ${value} is not a positive integer`,
        );
      }
    }
    if (!Number.isInteger(this.#historySize) || this.#historySize < 0) {
      throw new RangeError(
        `Cannot create Redis relay: historySize ${this.#historySize} is not a non-negative integer`,
      );
    }
  }

  /**
   * Connects to Redis and returns the relay, ready for a hub's `relay` option.
   *
   * @param address Where Redis listens.
   * @param options History size, time to live, reconnection, logging.
   * @returns The relay.
   * @throws {RedisUnavailableError} If Redis cannot be reached and `optional` is false.
   * @throws {RangeError} If an option is out of range.
   */
  static async connect(
    address: RedisAddress,
    options: RedisRelayOptions = {},
  ): Promise<RedisRelay> {
    const relay = new RedisRelay(address, options);
    try {
      await relay.#open();
    } catch (error) {
      if (!options.optional || !(error instanceof RedisUnavailableError)) throw error;
      relay.#log.warn(`${error.message}; chatting on this server alone until Redis answers`);
      relay.#connecting = relay.#openInBackground();
    }
    return relay;
  }

  /** Whether Redis is reachable now. */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Redis's address, as a URL. */
  get url(): string {
    return formatRedisAddress(this.#address);
  }

  attach(sink: ChatRelaySink): void {
    this.#sink = sink;
  }

  async #open(): Promise<void> {
    const client = await RedisClient.connect(this.#address, {
      ...this.#clientOptions,
      onMessage: (message) => this.#onMessage(message),
      onStatus: (up, error) => this.#onStatus(up, error),
    });
    if (this.#closed) return void await client.close();
    this.#client = client;
    client.subscribe(this.#channel("server", this.id), ...this.#roomChannels());
    this.#refreshTimer = setInterval(() => this.#refresh(), Math.max(10, this.#ttl / 3));
  }

  /** `optional`: keep trying, with the client's backoff, until Redis answers. */
  async #openInBackground(): Promise<void> {
    let delay = this.#clientOptions.reconnectDelay;
    while (!this.#closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#stop.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      if (this.#closed) return;
      try {
        await this.#open();
        if (this.#client === null) return;
        this.#log.info(`connected to Redis at ${this.#client.url}: rooms are shared now`);
        await this.#refresh();
        this.#sink?.notifyAll("connected to the other servers: rooms are shared now");
        return;
      } catch {
        delay = Math.min(delay * 2, this.#clientOptions.maxReconnectDelay);
      }
    }
  }

  #onStatus(up: boolean, error?: Error): void {
    if (!up) {
      this.#log.warn(
        `${error?.message ?? "lost Redis"}; reconnecting, local members keep chatting`,
      );
      this.#sink?.notifyAll(
        "lost contact with the other servers; you can keep chatting with people on this server",
      );
      return;
    }
    this.#log.info(`reconnected to Redis at ${this.url}; subscriptions restored`);
    // Redis may have restarted empty: put our nicks and presence back before saying so.
    this.#refresh().finally(() => {
      this.#sink?.notifyAll("reconnected to the other servers; messages said meanwhile are lost");
    });
  }

  #onMessage({ channel, payload }: RedisMessage): void {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch {
      return; // not ours: someone else publishing on our channels
    }
    if (typeof message !== "object" || message === null) return;
    const fields = message as Record<string, unknown>;
    if (channel === this.#channel("server", this.id)) {
      if (typeof fields.to === "string" && isLine(fields.text)) {
        this.#sink?.deliverPrivate(fields.to, fields.text);
      }
      return;
    }
    const { from, room, text, id } = fields;
    if (from === this.id || typeof room !== "string" || !isLine(text)) return;
    if (channel !== this.#channel("room", room)) return;
    this.#sink?.deliverToRoom(room, text, typeof id === "string" ? id : undefined);
  }

  /** Sends one command; rejects at once with RedisUnavailableError while Redis is away. */
  #command(args: readonly (string | number)[]): Promise<RespValue> {
    if (this.#client === null) {
      return Promise.reject(new RedisUnavailableError("Cannot send: not connected to Redis"));
    }
    return this.#client.command(args);
  }

  /** Sends a command whose reply nobody waits for; a lost one is repaired by the refresh. */
  #fire(args: readonly (string | number)[]): void {
    this.#command(args).catch((error) => {
      // RangeError: maxPending commands await replies. Redis is slower than our members, and
      // what they say stays on this server until it catches up; say so, not on every line.
      if (!(error instanceof RangeError)) return;
      this.#dropped++;
      const now = performance.now();
      if (now - this.#lastDropWarning < DROP_WARNING_EVERY) return;
      this.#lastDropWarning = now;
      this.#log.warn(
        `Redis is falling behind: ${this.#dropped} commands not sent so far (${error.message})`,
      );
    });
  }

  #key(kind: string, name: string): string {
    return `${this.#prefix}${kind}:${name}`;
  }

  #channel(kind: "room" | "server", name: string): string {
    return this.#key(kind, name);
  }

  #roomChannels(): string[] {
    return [...this.#localCounts.keys()].map((room) => this.#channel("room", room));
  }

  async claimNick(nick: string): Promise<boolean> {
    const key = this.#key("nick", nick.toLowerCase());
    // SET NX either takes the nick or leaves it; the GET after it says whose it is now
    // (ours already, under another spelling, counts as ours).
    const [, owner] = await Promise.all([
      this.#command(["SET", key, this.id, "NX", "PX", this.#ttl]),
      this.#command(["GET", key]),
    ]);
    return owner === this.id;
  }

  releaseNick(nick: string): void {
    this.#fire(["EVAL", RELEASE_NICK, 1, this.#key("nick", nick.toLowerCase()), this.id]);
  }

  async join(room: string, nick: string): Promise<ChatRelayJoin> {
    const count = (this.#localCounts.get(room) ?? 0) + 1;
    this.#localCounts.set(room, count);
    // Subscribed before the history is read, so no line falls between the two.
    if (count === 1) this.#client?.subscribe(this.#channel("room", room));
    const now = Date.now();
    const members = this.#key("members", room);
    const [, , , size, history] = await Promise.all([
      this.#command(["ZADD", members, now + this.#ttl, nick]),
      this.#command(["ZADD", this.#key("rooms", "all"), now + this.#ttl, room]),
      this.#command(["ZREMRANGEBYSCORE", members, "-inf", now]),
      this.#command(["ZCARD", members]),
      this.#command(["LRANGE", this.#key("history", room), 0, this.#historySize - 1]),
    ]);
    return {
      size: typeof size === "number" ? size : 1,
      history: parseHistory(history).reverse(),
    };
  }

  leave(room: string, nick: string): void {
    const count = (this.#localCounts.get(room) ?? 1) - 1;
    if (count > 0) {
      this.#localCounts.set(room, count);
    } else {
      this.#localCounts.delete(room);
      this.#client?.unsubscribe(this.#channel("room", room));
    }
    this.#fire(["ZREM", this.#key("members", room), nick]);
  }

  rename(room: string, oldNick: string, newNick: string): void {
    this.#fire(["ZREM", this.#key("members", room), oldNick]);
    this.#fire(["ZADD", this.#key("members", room), Date.now() + this.#ttl, newNick]);
  }

  publish(room: string, text: string, id: string | undefined): void {
    const message = JSON.stringify({ from: this.id, room, text, id });
    const channel = this.#channel("room", room);
    if (id === undefined || this.#historySize === 0) {
      return this.#fire(["PUBLISH", channel, message]);
    }
    const entry = JSON.stringify({ id, text });
    this.#fire([
      "EVAL",
      SAY,
      1,
      this.#key("history", room),
      entry,
      this.#historySize - 1,
      this.#historyTtl,
      channel,
      message,
    ]);
  }

  async who(room: string): Promise<string[]> {
    const reply = await this.#command([
      "ZRANGE",
      this.#key("members", room),
      Date.now(),
      "+inf",
      "BYSCORE",
    ]);
    return strings(reply).sort((a, b) => a.localeCompare(b));
  }

  async rooms(): Promise<ChatRoomInfo[]> {
    const now = Date.now();
    const names = strings(
      await this.#command([
        "ZRANGE",
        this.#key("rooms", "all"),
        now,
        "+inf",
        "BYSCORE",
        "LIMIT",
        0,
        MAX_ROOMS,
      ]),
    );
    const sizes = await Promise.all(
      names.map((room) => this.#command(["ZCOUNT", this.#key("members", room), now, "+inf"])),
    );
    return names
      .map((name, i) => ({ name, size: Number(sizes[i] ?? 0) }))
      .filter((room) => room.size > 0)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async sendPrivate(to: string, text: string): Promise<boolean> {
    const server = await this.#command(["GET", this.#key("nick", to.toLowerCase())]);
    if (typeof server !== "string") return false;
    const message = JSON.stringify({ to, text });
    const receivers = await this.#command(["PUBLISH", this.#channel("server", server), message]);
    return typeof receivers === "number" && receivers > 0;
  }

  /**
   * Renews this server's nicks and presence (every third of `presenceTtl`, and after a
   * reconnection to a Redis that may have restarted empty); tells members whose nick another
   * server took meanwhile.
   */
  async #refresh(): Promise<void> {
    if (this.#sink === undefined || this.#client === null) return;
    const expires = Date.now() + this.#ttl;
    const members = [...this.#sink.members()];
    const byRoom = new Map<string, string[]>();
    for (const { nick, room } of members) {
      if (room === undefined) continue;
      const nicks = byRoom.get(room);
      if (nicks === undefined) byRoom.set(room, [nick]);
      else nicks.push(nick);
    }
    const commands: (readonly (string | number)[])[] = [];
    for (const [room, nicks] of byRoom) {
      // One ZADD per room and chunk: `ZADD key score nick score nick ...`.
      for (let i = 0; i < nicks.length; i += REFRESH_CHUNK) {
        const pairs = nicks.slice(i, i + REFRESH_CHUNK).flatMap((nick) => [expires, nick]);
        commands.push(["ZADD", this.#key("members", room), ...pairs]);
      }
      commands.push(["PEXPIRE", this.#key("members", room), this.#ttl]);
      commands.push(["ZADD", this.#key("rooms", "all"), expires, room]);
    }
    commands.push(["ZREMRANGEBYSCORE", this.#key("rooms", "all"), "-inf", Date.now()]);
    const nickChecks = members.map(({ nick }) => async () => {
      const key = this.#key("nick", nick.toLowerCase());
      const ours = await this.#command(["EVAL", REFRESH_NICK, 1, key, this.id, this.#ttl]);
      if (ours === 0) this.#sink?.nickConflict(nick);
    });
    const all = [...commands.map((args) => () => this.#command(args)), ...nickChecks];
    for (let i = 0; i < all.length; i += REFRESH_CHUNK) {
      await Promise.all(all.slice(i, i + REFRESH_CHUNK).map((send) => send().catch(() => {})));
    }
  }

  /**
   * Stops refreshing and closes the connection, after the commands already sent (a
   * shutdown's nick releases and leaves) have been answered.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    clearInterval(this.#refreshTimer);
    await this.#connecting;
    const client = this.#client;
    if (client === null) return;
    // Replies come in order: once PING answers, everything sent before it is done.
    if (client.connected) await client.command(["PING"]).catch(() => {});
    await client.close();
  }

  /** Implements `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
