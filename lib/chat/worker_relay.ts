/**
 * Chat rooms shared by the worker threads of one process (`chat_server.ts --workers N`): each
 * worker's hub asks one owner in the main thread ({@linkcode ChatOwner}) for what spans
 * workers (nicks, presence, history) and sends it what its members say; the owner passes each
 * line on to the workers with members in that room.
 *
 * @module
 */

import type { ChatRoomInfo } from "./chat_session.ts";
import type { ChatRelay, ChatRelayJoin, ChatRelayLine, ChatRelaySink } from "./chat_relay.ts";

/** A worker's request to the owner; `seq` is set when the worker waits for a reply. */
export type ToChatOwner =
  | { op: "claim"; seq: number; nick: string }
  | { op: "release"; nick: string }
  | { op: "join"; seq: number; room: string; nick: string }
  | { op: "leave"; room: string; nick: string }
  | { op: "rename"; room: string; oldNick: string; newNick: string }
  | { op: "publish"; room: string; text: string; id: string | undefined }
  | { op: "who"; seq: number; room: string }
  | { op: "rooms"; seq: number }
  | { op: "private"; seq: number; to: string; text: string }
  | { op: "batch"; messages: ToChatOwner[] };

/** The owner's replies and deliveries to a worker. */
export type FromChatOwner =
  | { op: "reply"; seq: number; value: unknown }
  | { op: "room"; room: string; text: string; id: string | undefined }
  | { op: "private"; to: string; text: string }
  | { op: "batch"; messages: FromChatOwner[] };

/**
 * Wraps a `post(worker, message)` so that the messages for one worker posted in the same tick
 * travel as one `batch`: one structured clone and one task on the other side instead of one
 * per line, and the receiving worker's writes to its members coalesce (measured with
 * `deno task bench:scale`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchByWorker, type FromChatOwner } from "./worker_relay.ts";
 *
 * const posted: [number, FromChatOwner][] = [];
 * const post = batchByWorker<FromChatOwner>((worker, message) => posted.push([worker, message]));
 * post(1, { op: "private", to: "bob", text: "a" });
 * post(1, { op: "private", to: "bob", text: "b" });
 * await Promise.resolve();
 * assert.equal(posted.length, 1);
 * assert.equal(posted[0]![1].op, "batch");
 * ```
 *
 * @param post Sends one message to one worker.
 * @returns The batching `post`.
 */
export function batchByWorker<M extends { op: string }>(
  post: (worker: number, message: M | { op: "batch"; messages: M[] }) => void,
): (worker: number, message: M) => void {
  const pending = new Map<number, M[]>();
  return (worker, message) => {
    const queued = pending.get(worker);
    if (queued !== undefined) return void queued.push(message);
    pending.set(worker, [message]);
    queueMicrotask(() => {
      const messages = pending.get(worker)!;
      pending.delete(worker);
      post(worker, messages.length === 1 ? messages[0]! : { op: "batch", messages });
    });
  };
}

/** How a worker talks to the main thread: `PoolWorkerInit`'s `send` and `onMessage`. */
export interface ChatOwnerPort {
  /** Sends a message to the main thread. */
  send(message: unknown): void;
  /** Receives the main thread's messages. */
  onMessage(handler: (message: unknown) => void): void;
}

/**
 * The worker side: a {@linkcode ChatRelay} whose other hubs are the process's other workers,
 * through the owner in the main thread. The owner is in the same process, so it is always
 * reachable: no method rejects while the process runs.
 *
 * @example In a pool worker (see lib/net/run_pool_worker.ts)
 * ```ts ignore
 * import { WorkerChatRelay } from "./worker_relay.ts";
 * import { startChatServer } from "./chat_server.ts";
 * import { runPoolWorker } from "../net/run_pool_worker.ts";
 *
 * runPoolWorker((init) => {
 *   const relay = new WorkerChatRelay(init, `w${init.index}`);
 *   const server = startChatServer({ port: init.port, reusePort: true, relay });
 *   return { ...server, stats: () => ({ connections: server.hub.connectionCount }) };
 * });
 * ```
 */
export class WorkerChatRelay implements ChatRelay {
  readonly id: string;
  readonly connected = true;
  #send: (message: ToChatOwner) => void;
  #sink: ChatRelaySink | undefined;
  #seq = 0;
  #waiting = new Map<number, (value: unknown) => void>();

  /**
   * Connects to the owner over `port`.
   *
   * @param port The worker's channel to the main thread.
   * @param id This worker's id in line ids, e.g. `w0`, unique per worker generation.
   */
  constructor(port: ChatOwnerPort, id: string) {
    const send = batchByWorker<ToChatOwner>((_, message) => port.send(message));
    this.#send = (message) => send(0, message);
    this.id = id;
    port.onMessage((message) => this.#receive(message as FromChatOwner));
  }

  attach(sink: ChatRelaySink): void {
    this.#sink = sink;
  }

  #receive(message: FromChatOwner): void {
    switch (message.op) {
      case "reply": {
        const resolve = this.#waiting.get(message.seq);
        this.#waiting.delete(message.seq);
        resolve?.(message.value);
        return;
      }
      case "room":
        return this.#sink?.deliverToRoom(message.room, message.text, message.id);
      case "private":
        this.#sink?.deliverPrivate(message.to, message.text);
        return;
      case "batch":
        for (const each of message.messages) this.#receive(each);
        return;
    }
  }

  /** Sends a request and resolves with the owner's reply. */
  #ask<T>(request: (seq: number) => ToChatOwner): Promise<T> {
    const seq = ++this.#seq;
    const { promise, resolve } = Promise.withResolvers<unknown>();
    this.#waiting.set(seq, resolve);
    this.#send(request(seq));
    return promise as Promise<T>;
  }

  #tell(message: ToChatOwner): void {
    this.#send(message);
  }

  claimNick(nick: string): Promise<boolean> {
    return this.#ask((seq) => ({ op: "claim", seq, nick }));
  }

  releaseNick(nick: string): void {
    this.#tell({ op: "release", nick });
  }

  join(room: string, nick: string): Promise<ChatRelayJoin> {
    return this.#ask((seq) => ({ op: "join", seq, room, nick }));
  }

  leave(room: string, nick: string): void {
    this.#tell({ op: "leave", room, nick });
  }

  rename(room: string, oldNick: string, newNick: string): void {
    this.#tell({ op: "rename", room, oldNick, newNick });
  }

  publish(room: string, text: string, id: string | undefined): void {
    this.#tell({ op: "publish", room, text, id });
  }

  who(room: string): Promise<string[]> {
    return this.#ask((seq) => ({ op: "who", seq, room }));
  }

  rooms(): Promise<ChatRoomInfo[]> {
    return this.#ask((seq) => ({ op: "rooms", seq }));
  }

  sendPrivate(to: string, text: string): Promise<boolean> {
    return this.#ask((seq) => ({ op: "private", seq, to, text }));
  }
}

/** Options for {@linkcode ChatOwner}. */
export interface ChatOwnerOptions {
  /**
   * Messages kept per room, replayed to joiners on any worker.
   *
   * @default {20}
   */
  historySize?: number;
  /**
   * The room whose history outlives its members, as on one server (others forget theirs
   * when their last member leaves).
   *
   * @default {"lobby"}
   */
  defaultRoom?: string;
}

/**
 * The main thread's side: the one copy of who holds which nick on which worker, who is in
 * which room, and each room's history. Workers' requests come in through
 * {@linkcode ChatOwner.handle}; replies and deliveries go out through `post`.
 *
 * @example With two fake workers
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChatOwner, type FromChatOwner } from "./worker_relay.ts";
 *
 * const sent: [number, FromChatOwner][] = [];
 * const owner = new ChatOwner((worker, message) => sent.push([worker, message]));
 * owner.handle(0, { op: "claim", seq: 1, nick: "alice" });
 * owner.handle(1, { op: "claim", seq: 1, nick: "Alice" });
 * assert.deepEqual(sent, [
 *   [0, { op: "reply", seq: 1, value: true }],
 *   [1, { op: "reply", seq: 1, value: false }],
 * ]);
 * ```
 */
export class ChatOwner {
  #post: (worker: number, message: FromChatOwner) => void;
  #historySize: number;
  #defaultRoom: string;
  /** Lower-cased nick → the worker holding it. */
  #nicks = new Map<string, number>();
  /** Room → nick → the worker of that member. */
  #rooms = new Map<string, Map<string, number>>();
  #history = new Map<string, ChatRelayLine[]>();

  /**
   * Creates the owner.
   *
   * @param post Sends a message to one worker (the pool's `post`).
   * @param options The history size.
   * @throws {RangeError} If `historySize` is not a non-negative integer.
   */
  constructor(
    post: (worker: number, message: FromChatOwner) => void,
    options: ChatOwnerOptions = {},
  ) {
    this.#post = post;
    this.#historySize = options.historySize ?? 20;
    this.#defaultRoom = options.defaultRoom ?? "lobby";
    if (!Number.isInteger(this.#historySize) || this.#historySize < 0) {
      throw new RangeError(
        `Cannot create chat owner: historySize ${this.#historySize} is not a non-negative integer`,
      );
    }
  }

  /**
   * Handles one request from `worker`.
   *
   * @param worker The sending worker's number.
   * @param message Its request (checked loosely: workers run our own code).
   */
  handle(worker: number, message: unknown): void {
    const request = message as ToChatOwner;
    const reply = (seq: number, value: unknown) => this.#post(worker, { op: "reply", seq, value });
    switch (request.op) {
      case "batch":
        for (const each of request.messages) this.handle(worker, each);
        return;
      case "claim": {
        const key = request.nick.toLowerCase();
        const holder = this.#nicks.get(key);
        if (holder === undefined) this.#nicks.set(key, worker);
        return reply(request.seq, holder === undefined || holder === worker);
      }
      case "release":
        if (this.#nicks.get(request.nick.toLowerCase()) === worker) {
          this.#nicks.delete(request.nick.toLowerCase());
        }
        return;
      case "join": {
        const members = this.#members(request.room);
        members.set(request.nick, worker);
        return reply(
          request.seq,
          {
            history: this.#history.get(request.room) ?? [],
            size: members.size,
          } satisfies ChatRelayJoin,
        );
      }
      case "leave":
        return this.#leave(request.room, request.nick, worker);
      case "rename":
        this.#leave(request.room, request.oldNick, worker);
        this.#members(request.room).set(request.newNick, worker);
        return;
      case "publish":
        return this.#publish(worker, request.room, request.text, request.id);
      case "who":
        return reply(
          request.seq,
          [...(this.#rooms.get(request.room)?.keys() ?? [])].sort((a, b) => a.localeCompare(b)),
        );
      case "rooms":
        return reply(
          request.seq,
          [...this.#rooms].map(([name, members]) => ({ name, size: members.size }))
            .sort((a, b) => a.name.localeCompare(b.name)),
        );
      case "private": {
        const target = this.#nicks.get(request.to.toLowerCase());
        if (target !== undefined) {
          this.#post(target, { op: "private", to: request.to, text: request.text });
        }
        return reply(request.seq, target !== undefined);
      }
    }
  }

  /**
   * Forgets everything worker `index` held: it crashed, and its members are gone.
   *
   * @param index The worker's number.
   */
  workerGone(index: number): void {
    for (const [nick, worker] of this.#nicks) if (worker === index) this.#nicks.delete(nick);
    for (const [room, members] of this.#rooms) {
      for (const [nick, worker] of members) {
        if (worker === index) this.#leave(room, nick, worker);
      }
    }
  }

  #members(room: string): Map<string, number> {
    let members = this.#rooms.get(room);
    if (members === undefined) this.#rooms.set(room, members = new Map());
    return members;
  }

  #leave(room: string, nick: string, worker: number): void {
    const members = this.#rooms.get(room);
    if (members?.get(nick) !== worker) return;
    members.delete(nick);
    if (members.size > 0) return;
    this.#rooms.delete(room);
    if (room !== this.#defaultRoom) this.#history.delete(room);
  }

  #publish(from: number, room: string, text: string, id: string | undefined): void {
    if (id !== undefined && this.#historySize > 0) {
      let history = this.#history.get(room);
      if (history === undefined) this.#history.set(room, history = []);
      history.push({ id, text });
      if (history.length > this.#historySize) history.shift();
    }
    // Each worker with members in the room gets the line once, however many members it has.
    const workers = new Set(this.#rooms.get(room)?.values());
    workers.delete(from);
    for (const worker of workers) this.#post(worker, { op: "room", room, text, id });
  }
}
