/**
 * A chat room: its members, its broadcast and its recent history.
 *
 * @module
 */

import type { ChatLine } from "./chat_line.ts";

/** Anyone who can be in a room: a nick and a way to receive a line without blocking. */
export interface ChatParticipant {
  /** The participant's current nick. */
  readonly nick: string;
  /**
   * Queues `line` for delivery. Must return at once (enqueue, never await a
   * socket) and never throw: the room calls it for every member in turn.
   */
  send(line: ChatLine): void;
}

/** Options for {@linkcode ChatRoom}. */
export interface ChatRoomOptions {
  /**
   * How many recent messages the room keeps to replay to members who join.
   *
   * @default {20}
   */
  historySize?: number;
}

/**
 * A named set of participants. {@linkcode ChatRoom.broadcast} hands a line to
 * every member with a synchronous `send()`, so one member with a stuck socket
 * never delays the others; {@linkcode ChatRoom.record} keeps the last
 * `historySize` messages for newcomers.
 *
 * @example
 * ```ts
 * import { ChatLine } from "./chat_line.ts";
 * import { ChatRoom } from "./chat_room.ts";
 * import assert from "node:assert/strict";
 *
 * const got: string[] = [];
 * const room = new ChatRoom("lobby", { historySize: 1 });
 * room.add({ nick: "alice", send: (line) => got.push(line.text) });
 * room.broadcast(new ChatLine("hello"));
 * room.record(new ChatLine("old"));
 * room.record(new ChatLine("new"));
 * assert.deepEqual(got, ["hello"]);
 * assert.deepEqual(room.history.map((line) => line.text), ["new"]);
 * ```
 */
export class ChatRoom {
  /** The room's name, without `#`. */
  readonly name: string;
  #members = new Set<ChatParticipant>();
  #historySize: number;
  /** Ring buffer of the last messages; `#next` is where the next one goes. */
  #history: ChatLine[] = [];
  #next = 0;

  /**
   * Creates an empty room.
   *
   * @param name The room's name, without `#`.
   * @param options The history size.
   * @throws {RangeError} If `historySize` is not a non-negative integer.
   */
  constructor(name: string, options: ChatRoomOptions = {}) {
    const historySize = options.historySize ?? 20;
    if (!Number.isInteger(historySize) || historySize < 0) {
      throw new RangeError(
        `Cannot create room: historySize ${historySize} is not a non-negative integer`,
      );
    }
    this.name = name;
    this.#historySize = historySize;
  }

  /** How many members the room has. */
  get size(): number {
    return this.#members.size;
  }

  /** The members, in the order they joined. */
  get members(): Iterable<ChatParticipant> {
    return this.#members.values();
  }

  /** The recorded messages, oldest first. */
  get history(): ChatLine[] {
    return [...this.#history.slice(this.#next), ...this.#history.slice(0, this.#next)];
  }

  /**
   * Adds `member` (once).
   *
   * @param member The participant.
   */
  add(member: ChatParticipant): void {
    this.#members.add(member);
  }

  /**
   * Removes `member` if present.
   *
   * @param member The participant.
   * @returns `true` if it was a member.
   */
  remove(member: ChatParticipant): boolean {
    return this.#members.delete(member);
  }

  /**
   * Checks membership.
   *
   * @param member The participant.
   * @returns `true` if `member` is in the room.
   */
  has(member: ChatParticipant): boolean {
    return this.#members.has(member);
  }

  /**
   * Sends `line` to every member except `except`, without waiting for any of them.
   *
   * @param line The line, encoded once for all.
   * @param except A member to skip, typically the sender.
   */
  broadcast(line: ChatLine, except?: ChatParticipant): void {
    for (const member of this.#members) {
      if (member !== except) member.send(line);
    }
  }

  /**
   * Keeps `line` in the history, forgetting the oldest message beyond `historySize`.
   *
   * @param line A message to replay to later joiners.
   */
  record(line: ChatLine): void {
    if (this.#historySize === 0) return;
    if (this.#history.length < this.#historySize) {
      this.#history.push(line);
    } else {
      this.#history[this.#next] = line;
      this.#next = (this.#next + 1) % this.#historySize;
    }
  }
}
