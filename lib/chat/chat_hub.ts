/**
 * The chat room core: sessions, nicks, rooms, commands and per-member limits,
 * with no socket code. A transport (TCP lines, WebSocket messages) turns each
 * connection into a {@linkcode ChatMember}, calls {@linkcode ChatHub.connect},
 * and feeds the lines it receives to the returned {@linkcode ChatSession}.
 *
 * @module
 */

import { ChatLine } from "./chat_line.ts";
import type { ChatRelay, ChatRelaySink } from "./chat_relay.ts";
import { ChatRoom } from "./chat_room.ts";
import { NickRegistry } from "./nick_registry.ts";
import type { ChatMember, ChatRoomInfo, ChatSession } from "./chat_session.ts";
import type { ChatHubOptions, ChatHubSettings } from "./chat_hub_options.ts";
import { type HubAccess, Session } from "./_session.ts";
import { TokenBucket } from "../net/token_bucket.ts";

/** Room names follow the nick rules, but may start with a digit. */
const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/**
 * The whole chat: nick registry, rooms, and one session per connected member.
 *
 * Everything here is synchronous: a line comes in, replies and broadcasts are
 * enqueued on members, and the call returns. Sending never waits for a
 * member's socket, so one slow member never slows the room.
 *
 * @example Two members chatting, with in-memory members
 * ```ts
 * import { ChatHub } from "./chat_hub.ts";
 * import type { ChatMember } from "./chat_session.ts";
 * import assert from "node:assert/strict";
 *
 * function member(lines: string[]): ChatMember {
 *   return { send: (line) => lines.push(line.text), close: () => {} };
 * }
 * const halfPastNoon = new Date(2026, 0, 1, 12, 30).getTime();
 * const hub = new ChatHub({ registrationTimeout: 0, now: () => halfPastNoon });
 * const alice: string[] = [];
 * const bob: string[] = [];
 * hub.connect(member(alice)).receive("alice");
 * hub.connect(member(bob)).receive("bob");
 * hub.sessionFor("alice")?.receive("hello");
 * assert.equal(bob.at(-1), "[12:30] <alice> hello");
 * hub.close();
 * ```
 */
export class ChatHub {
  #options: ChatHubSettings;
  #relay: ChatRelay | undefined;
  #nicks: NickRegistry<Session>;
  #rooms = new Map<string, ChatRoom>();
  #sessions = new Set<Session>();
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** What sessions may do to the hub, kept off its public surface. */
  #connections = 0;
  #messages = 0;
  #lineSeq = 0;
  /** Ids of history lines, for the relay (so a line that arrives twice is shown once). */
  #lineIds = new WeakMap<ChatLine, string>();
  #access: HubAccess = {
    relay: undefined,
    countMessage: () => void this.#messages++,
    newLineId: (line) => {
      const id = `${this.#relay?.id ?? "local"}:${++this.#lineSeq}`;
      this.#lineIds.set(line, id);
      return id;
    },
    lineId: (line) => this.#lineIds.get(line),
    claimNick: (session, nick) => {
      const invalid = this.#nicks.validate(nick);
      if (invalid !== undefined) return `cannot use that nick: ${invalid}`;
      if (!this.#nicks.claim(nick, session)) return `cannot use nick "${nick}": it is taken`;
      return undefined;
    },
    releaseNick: (session, nick) => {
      if (this.#nicks.get(nick) !== session) return;
      this.#nicks.release(nick, session);
      this.#relay?.releaseNick(nick);
    },
    findNick: (nick) => this.#nicks.get(nick),
    roomFor: (name) => {
      const bare = name.startsWith("#") ? name.slice(1) : name;
      if (!ROOM_PATTERN.test(bare)) {
        return `cannot join "${name}": a room name is 1-32 letters, digits, _ or -`;
      }
      return this.#roomNamed(bare.toLowerCase());
    },
    leaveRoom: (session, room) => {
      room.remove(session);
      if (session.nick !== "") this.#relay?.leave(room.name, session.nick);
      // Empty rooms go away (history with them), so rooms never outnumber members.
      if (room.size === 0 && room.name !== this.#options.defaultRoom) {
        this.#rooms.delete(room.name);
      }
    },
    rooms: () => this.rooms,
    forget: (session) => this.#sessions.delete(session),
  };

  /**
   * Creates an empty chat with the `defaultRoom`.
   *
   * @param options Limits, timeouts and the clock.
   * @throws {RangeError} If a limit is out of range or `defaultRoom` is not a valid room name.
   */
  constructor(options: ChatHubOptions = {}) {
    this.#options = {
      historySize: options.historySize ?? 20,
      maxNickLength: options.maxNickLength ?? 20,
      maxLineBytes: options.maxLineBytes ?? 4096,
      floodBurst: options.floodBurst ?? 20,
      floodRate: options.floodRate ?? 10,
      floodDisconnectAfter: options.floodDisconnectAfter ?? 40,
      registrationTimeout: options.registrationTimeout ?? 60_000,
      idleTimeout: options.idleTimeout ?? 0,
      defaultRoom: options.defaultRoom ?? "lobby",
      now: options.now ?? Date.now,
    };
    this.#relay = options.relay;
    this.#access.relay = options.relay;
    for (const key of ["maxLineBytes", "floodDisconnectAfter"] as const) {
      if (!Number.isInteger(this.#options[key]) || this.#options[key] < 1) {
        throw new RangeError(
          `Cannot create chat: ${key} ${this.#options[key]} is not a positive integer`,
        );
      }
    }
    for (const key of ["registrationTimeout", "idleTimeout"] as const) {
      if (!Number.isFinite(this.#options[key]) || this.#options[key] < 0) {
        throw new RangeError(`Cannot create chat: ${key} ${this.#options[key]} is not a duration`);
      }
    }
    if (!ROOM_PATTERN.test(this.#options.defaultRoom)) {
      throw new RangeError(
        `Cannot create chat: defaultRoom "${this.#options.defaultRoom}" is not a valid room name`,
      );
    }
    this.#nicks = new NickRegistry({ maxLength: this.#options.maxNickLength });
    // Fail fast on bad flood settings rather than at the first connection.
    new TokenBucket({
      capacity: this.#options.floodBurst,
      refillPerSecond: this.#options.floodRate,
    });
    this.#roomNamed(this.#options.defaultRoom);
    if (this.#options.idleTimeout > 0) {
      // One sweep for everyone, instead of resetting a timer per member on every line.
      const every = Math.max(50, Math.min(1000, this.#options.idleTimeout / 4));
      this.#idleTimer = setInterval(() => this.#sweepIdle(), every);
    }
    this.#relay?.attach(this.#relaySink());
  }

  /** What the relay may do to this hub: deliver what the other hubs said. */
  #relaySink(): ChatRelaySink {
    return {
      deliverToRoom: (name, text, id) => {
        const room = this.#rooms.get(name);
        if (room === undefined) return;
        const line = new ChatLine(text);
        if (id !== undefined) {
          this.#lineIds.set(line, id);
          // Kept locally too: the history a joiner gets while Redis is unreachable.
          room.record(line);
        }
        room.broadcast(line);
      },
      deliverPrivate: (to, text) => {
        const session = this.#nicks.get(to);
        if (session === undefined) return false;
        session.send(new ChatLine(text));
        return true;
      },
      notifyAll: (text) => {
        const line = new ChatLine(`*** ${text}`);
        for (const session of this.#sessions) session.send(line);
      },
      members: () =>
        [...this.#sessions]
          .filter((session) => session.nick !== "")
          .map((session) => ({ nick: session.nick, room: session.room })),
      nickConflict: (nick) => {
        this.#nicks.get(nick)?.send(
          new ChatLine(
            `*** error: while other servers were unreachable, someone there took the nick ` +
              `${nick} too; private messages to it may reach them: pick another with /nick NAME`,
          ),
        );
      },
    };
  }

  /** The options in effect, defaults filled in. */
  get options(): Readonly<ChatHubSettings> {
    return this.#options;
  }

  /** Connected sessions, registered or not. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Sessions connected since the hub was created (each TCP or WebSocket client once). */
  get connectionCount(): number {
    return this.#connections;
  }

  /** Messages said to a room (`/me` too) or sent privately since the hub was created. */
  get messageCount(): number {
    return this.#messages;
  }

  /** Room names and member counts, sorted by name. */
  get rooms(): ChatRoomInfo[] {
    return [...this.#rooms.values()]
      .map((room) => ({ name: room.name, size: room.size }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Finds the session holding `nick` (ignoring case).
   *
   * @param nick A nick.
   * @returns The session, or `undefined`.
   */
  sessionFor(nick: string): ChatSession | undefined {
    return this.#nicks.get(nick);
  }

  /**
   * Starts a session for a newly connected `member`: greets it and asks for a nick.
   * After {@linkcode ChatHub.close}, the member is closed at once instead.
   *
   * @param member The transport's member.
   * @returns The session to feed lines to and to disconnect when the transport ends.
   */
  connect(member: ChatMember): ChatSession {
    const session = new Session(this.#access, member, this.#options);
    if (this.#closed) {
      session.disconnect("server shutting down", "*** server shutting down");
      return session;
    }
    this.#sessions.add(session);
    this.#connections++;
    session.greet();
    return session;
  }

  /**
   * Disconnects everyone with `*** ${reason}` and stops the hub's timers.
   * Later connections are refused with the same notice.
   *
   * @param reason Told to every member, e.g. `server shutting down`.
   */
  close(reason = "server shutting down"): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#idleTimer);
    for (const session of [...this.#sessions]) session.disconnect(reason, `*** ${reason}`);
  }

  #roomNamed(name: string): ChatRoom {
    let room = this.#rooms.get(name);
    if (room === undefined) {
      room = new ChatRoom(name, { historySize: this.#options.historySize });
      this.#rooms.set(name, room);
    }
    return room;
  }

  #sweepIdle(): void {
    const now = performance.now();
    for (const session of [...this.#sessions]) {
      if (now - session.lastActivity > this.#options.idleTimeout) {
        session.disconnect(
          "idle timeout",
          `*** disconnected: no input for ${this.#options.idleTimeout / 1000} s`,
        );
      }
    }
  }
}
