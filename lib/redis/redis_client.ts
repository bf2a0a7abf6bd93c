/**
 * A small Redis client: pipelined commands, pub/sub on the same connection
 * (RESP3 pushes), a timeout on every reply, and reconnection with backoff that
 * restores the subscriptions.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { writeAll } from "../io/write_all.ts";
import { formatRedisAddress, type RedisAddress } from "./redis_address.ts";
import {
  RedisReplyError,
  RespDecoder,
  type RespDecoderOptions,
  RespPush,
  type RespValue,
} from "./resp_decoder.ts";
import { encodeCommand, type RedisArgument } from "./resp_encoder.ts";

/** The client could not reach Redis, lost it, or waited too long for a reply. */
export class RedisUnavailableError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param cause The underlying error, if any.
   */
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "RedisUnavailableError";
  }
}

/** A pub/sub message delivered to {@linkcode RedisClientOptions.onMessage}. */
export interface RedisMessage {
  /** The channel it was published on. */
  channel: string;
  /** The published text. */
  payload: string;
}

/** Options for {@linkcode RedisClient.connect}. */
export interface RedisClientOptions {
  /**
   * Milliseconds to wait for a connection, and for each reply, before the
   * connection is taken as lost.
   *
   * @default {2000}
   */
  timeout?: number;
  /**
   * Keep reconnecting after the connection is lost (the first connection
   * must succeed). While down, commands fail at once with
   * {@linkcode RedisUnavailableError}.
   *
   * @default {true}
   */
  reconnect?: boolean;
  /**
   * The first pause between reconnection attempts, doubled after each
   * failure up to `maxReconnectDelay`.
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
   * The most commands waiting for their reply at once; more throw
   * `RangeError` (memory stays bounded when Redis is slow).
   *
   * @default {10000}
   */
  maxPending?: number;
  /**
   * Limits on what the server may send.
   *
   * @default {the RespDecoder defaults}
   */
  decoder?: RespDecoderOptions;
  /**
   * Called for every message on a subscribed channel.
   *
   * @default {ignore messages}
   */
  onMessage?: (message: RedisMessage) => void;
  /**
   * Called when the connection goes down (with the reason) and when it is back
   * (`error` undefined, after the subscriptions are restored).
   *
   * @default {nothing}
   */
  onStatus?: (up: boolean, error?: Error) => void;
}

interface Pending {
  resolve(value: RespValue): void;
  reject(error: Error): void;
}

/**
 * A connection to one Redis server that survives the server going away.
 *
 * Commands are pipelined: calls made in the same tick are written in one
 * write, and replies are matched to commands by order, so there is no round
 * trip per command. The connection speaks RESP3 (`HELLO 3`, Redis 6 or newer),
 * which lets pub/sub messages arrive as pushes beside ordinary replies on the
 * same connection.
 *
 * @example
 * ```ts ignore
 * import { RedisClient } from "./redis_client.ts";
 *
 * const redis = await RedisClient.connect(
 *   { transport: "tcp", hostname: "127.0.0.1", port: 6379 },
 *   { onMessage: ({ channel, payload }) => console.log(channel, payload) },
 * );
 * await redis.subscribe("chat:lobby");
 * await redis.command(["PUBLISH", "chat:lobby", "hello"]);
 * await redis.close();
 * ```
 */
export class RedisClient {
  #address: RedisAddress;
  #options: Required<Omit<RedisClientOptions, "decoder" | "onMessage" | "onStatus">>;
  #decoderOptions: RespDecoderOptions;
  #onMessage: (message: RedisMessage) => void;
  #onStatus: (up: boolean, error?: Error) => void;
  #conn: Deno.Conn | null = null;
  #pending: Pending[] = [];
  #outgoing: Uint8Array[] = [];
  #flushing = false;
  #subscriptions = new Set<string>();
  #closed = false;
  #stop = new AbortController();
  #replyTimer: ReturnType<typeof setTimeout> | undefined;
  #opening = false;
  /** The read loops and the reconnection loop, awaited by close(). */
  #tasks = new Set<Promise<void>>();

  private constructor(address: RedisAddress, options: RedisClientOptions) {
    this.#address = address;
    this.#options = {
      timeout: options.timeout ?? 2000,
      reconnect: options.reconnect ?? true,
      reconnectDelay: options.reconnectDelay ?? 100,
      maxReconnectDelay: options.maxReconnectDelay ?? 5000,
      maxPending: options.maxPending ?? 10_000,
    };
    this.#decoderOptions = options.decoder ?? {};
    this.#onMessage = options.onMessage ?? (() => {});
    this.#onStatus = options.onStatus ?? (() => {});
  }

  /**
   * Connects, switches to RESP3 and returns the client.
   *
   * @param address Where Redis listens.
   * @param options Timeouts, reconnection and callbacks.
   * @returns The connected client.
   * @throws {RedisUnavailableError} If Redis cannot be reached within the timeout.
   */
  static async connect(
    address: RedisAddress,
    options: RedisClientOptions = {},
  ): Promise<RedisClient> {
    const client = new RedisClient(address, options);
    await client.#open();
    return client;
  }

  /** Whether the connection is up now. */
  get connected(): boolean {
    return this.#conn !== null;
  }

  /** The server's address as a URL, for messages. */
  get url(): string {
    return formatRedisAddress(this.#address);
  }

  /**
   * Sends one command and waits for its reply.
   *
   * @param args The command and its arguments, e.g. `["SET", "k", "v", "NX"]`.
   * @returns The reply.
   * @throws {RedisReplyError} If Redis answers with an error.
   * @throws {RedisUnavailableError} If the connection is down or the reply is late.
   * @throws {RangeError} If `maxPending` commands already wait for replies.
   */
  command(args: readonly RedisArgument[]): Promise<RespValue> {
    if (this.#conn === null) {
      return Promise.reject(
        new RedisUnavailableError(`Cannot send ${args[0]}: not connected to ${this.url}`),
      );
    }
    if (this.#pending.length >= this.#options.maxPending) {
      return Promise.reject(
        new RangeError(
          `Cannot send ${args[0]}: ${this.#pending.length} commands await replies already`,
        ),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<RespValue>();
    this.#pending.push({ resolve, reject });
    this.#armReplyTimer();
    this.#write(encodeCommand(args));
    return promise;
  }

  /**
   * Subscribes to channels; messages go to `onMessage`. The subscriptions are
   * restored after a reconnection.
   *
   * @param channels The channels.
   */
  subscribe(...channels: string[]): void {
    for (const channel of channels) this.#subscriptions.add(channel);
    // Under RESP3 the confirmation is a push, not a reply: nothing waits for it.
    if (this.#conn !== null && channels.length > 0) {
      this.#write(encodeCommand(["SUBSCRIBE", ...channels]));
    }
  }

  /**
   * Unsubscribes from channels.
   *
   * @param channels The channels.
   */
  unsubscribe(...channels: string[]): void {
    for (const channel of channels) this.#subscriptions.delete(channel);
    if (this.#conn !== null && channels.length > 0) {
      this.#write(encodeCommand(["UNSUBSCRIBE", ...channels]));
    }
  }

  /** Closes the connection and stops reconnecting; pending commands fail. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    this.#lost(new RedisUnavailableError("Cannot wait for reply: the client was closed"), false);
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
  }

  /** Implements `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #open(): Promise<void> {
    const conn = await this.#dial();
    this.#conn = conn;
    this.#track(this.#readLoop(conn, new RespDecoder(this.#decoderOptions)));
    this.#opening = true;
    try {
      await this.command(["HELLO", "3"]);
    } catch (error) {
      const reason = error instanceof RedisReplyError
        ? `${this.url} does not speak RESP3 (Redis 6 or newer is needed): ${error.message}`
        : `Cannot start a session with ${this.url}: ${(error as Error).message}`;
      this.#lost(new RedisUnavailableError(reason, error), false);
      throw new RedisUnavailableError(reason, error);
    } finally {
      this.#opening = false;
    }
    if (this.#subscriptions.size > 0) {
      this.#write(encodeCommand(["SUBSCRIBE", ...this.#subscriptions]));
    }
  }

  async #dial(): Promise<Deno.Conn> {
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#options.timeout)]);
    try {
      if (this.#address.transport === "unix") {
        // Deno.connect has no signal for Unix sockets; a local socket answers at once or fails.
        return await Deno.connect({ transport: "unix", path: this.#address.path });
      }
      return await Deno.connect({
        hostname: this.#address.hostname,
        port: this.#address.port,
        signal,
      });
    } catch (error) {
      const why =
        error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotFound
          ? "connection refused: is redis-server running there?"
          : signal.aborted
          ? `no answer within ${this.#options.timeout} ms`
          : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
          ? `permission denied (${(error as Error).message})`
          : (error as Error).message;
      throw new RedisUnavailableError(`Cannot connect to Redis at ${this.url}: ${why}`, error);
    }
  }

  async #readLoop(conn: Deno.Conn, decoder: RespDecoder): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    let failure: Error = new RedisUnavailableError(
      `Lost the connection to ${this.url}: closed by the server`,
    );
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        decoder.push(buffer.subarray(0, n));
        for (let value = decoder.next(); value !== undefined; value = decoder.next()) {
          this.#dispatch(value);
        }
      }
    } catch (error) {
      if (this.#conn !== conn) return; // closed on purpose: #lost already ran
      failure = new RedisUnavailableError(
        `Lost the connection to ${this.url}: ${(error as Error).message}`,
        error,
      );
    }
    if (this.#conn === conn) this.#lost(failure, true);
  }

  #dispatch(value: RespValue): void {
    if (value instanceof RespPush) {
      const [kind, channel, payload] = value.items;
      if (kind === "message" && typeof channel === "string" && typeof payload === "string") {
        this.#onMessage({ channel, payload });
      }
      return;
    }
    const pending = this.#pending.shift();
    if (pending === undefined) return; // an unsolicited reply; nothing waits for it
    this.#armReplyTimer();
    if (value instanceof RedisReplyError) pending.reject(value);
    else pending.resolve(value);
  }

  /** Watches the oldest pending reply: replies come in order, so a late one means a stuck connection. */
  #armReplyTimer(): void {
    clearTimeout(this.#replyTimer);
    this.#replyTimer = undefined;
    if (this.#pending.length === 0) return;
    this.#replyTimer = setTimeout(() => {
      this.#lost(
        new RedisUnavailableError(
          `Lost the connection to ${this.url}: no reply within ${this.#options.timeout} ms`,
        ),
        true,
      );
    }, this.#options.timeout);
  }

  #write(bytes: Uint8Array): void {
    this.#outgoing.push(bytes);
    if (!this.#flushing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    // Let the rest of this tick add its commands, so they share one write.
    await Promise.resolve();
    try {
      while (this.#outgoing.length > 0 && this.#conn !== null) {
        const conn = this.#conn;
        const batch = this.#outgoing.length === 1 ? this.#outgoing[0]! : concat(this.#outgoing);
        this.#outgoing = [];
        try {
          await writeAll(conn, batch);
        } catch (error) {
          if (this.#conn === conn) {
            this.#lost(
              new RedisUnavailableError(
                `Lost the connection to ${this.url}: ${(error as Error).message}`,
                error,
              ),
              true,
            );
          }
        }
      }
    } finally {
      this.#flushing = false;
      if (this.#conn === null) this.#outgoing = [];
    }
  }

  #lost(error: Error, mayReconnect: boolean): void {
    const conn = this.#conn;
    this.#conn = null;
    clearTimeout(this.#replyTimer);
    this.#replyTimer = undefined;
    this.#outgoing = [];
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
    for (const pending of this.#pending.splice(0)) pending.reject(error);
    if (conn === null) return;
    // While (re)opening, the caller of #open handles the failure.
    if (mayReconnect && !this.#closed && !this.#opening) {
      this.#onStatus(false, error);
      if (this.#options.reconnect) this.#track(this.#reconnect());
    }
  }

  async #reconnect(): Promise<void> {
    let delay = this.#options.reconnectDelay;
    while (!this.#closed) {
      await sleep(delay, undefined, { signal: this.#stop.signal }).catch(() => {});
      if (this.#closed) return;
      try {
        await this.#open();
        this.#onStatus(true);
        return;
      } catch {
        delay = Math.min(delay * 2, this.#options.maxReconnectDelay);
      }
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
