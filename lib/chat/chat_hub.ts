/**
 * The chat room core: sessions, nicks, rooms, commands and per-member limits,
 * with no socket code. A transport (TCP lines, WebSocket messages) turns each
 * connection into a {@linkcode ChatMember}, calls {@linkcode ChatHub.connect},
 * and feeds the lines it receives to the returned {@linkcode ChatSession}.
 *
 * @module
 */

import { ChatLine } from "./chat_line.ts";
import { type ChatParticipant, ChatRoom } from "./chat_room.ts";
import { NickRegistry } from "./nick_registry.ts";
import { sanitizeText } from "./sanitize_text.ts";
import { TokenBucket } from "../net/token_bucket.ts";

/**
 * One connected client as the hub sees it: something that can be sent a line
 * and be closed. Implementations must not block or throw in either method;
 * a TCP member enqueues into an {@linkcode OutboundQueue}.
 */
export interface ChatMember {
  /** Queues `line` for the client; drops it silently if the client is gone. */
  send(line: ChatLine): void;
  /**
   * Sends `finalLine` if given (best effort, after what is already queued)
   * and then closes the connection. Called at most once by the hub.
   */
  close(finalLine?: ChatLine): void;
}

/** What a transport holds for one connection: where it feeds input, and how it reports the end. */
export interface ChatSession {
  /** The nick, or `""` until one is chosen. */
  readonly nick: string;
  /** The current room's name, once registered. */
  readonly room: string | undefined;
  /** True once the session was disconnected (by either side). */
  readonly closed: boolean;
  /**
   * Handles one line the client sent (without its newline): a nick, a command
   * or a message. Applies flood control, the length limit and sanitising.
   */
  receive(line: string): void;
  /**
   * Tells the client its line was too long and was dropped; counts against
   * flood control like any line. For transports whose decoder already dropped it.
   */
  rejectLongLine(size: number): void;
  /**
   * Ends the session: leaves the room (others see `reason`), frees the nick,
   * and closes the member, sending `notice` first if given. Idempotent.
   */
  disconnect(reason: string, notice?: string): void;
}

/** A room's name (without `#`) and member count, as listed by {@linkcode ChatHub.rooms}. */
export interface ChatRoomInfo {
  /** The room's name, without `#`. */
  name: string;
  /** Members in the room now. */
  size: number;
}

/** Options for {@linkcode ChatHub}. */
export interface ChatHubOptions {
  /**
   * Messages replayed to someone who joins a room.
   *
   * @default {20}
   */
  historySize?: number;
  /**
   * The longest nick, in characters.
   *
   * @default {20}
   */
  maxNickLength?: number;
  /**
   * The longest line accepted from a client, in UTF-8 bytes; longer lines get
   * an error reply and are not relayed.
   *
   * @default {4096}
   */
  maxLineBytes?: number;
  /**
   * Flood control: lines a client may send in a burst.
   *
   * @default {20}
   */
  floodBurst?: number;
  /**
   * Flood control: lines per second a client may send in the long run.
   *
   * @default {10}
   */
  floodRate?: number;
  /**
   * Flood control: refused lines, counted since the client's bucket was last
   * full, after which the client is disconnected.
   *
   * @default {40}
   */
  floodDisconnectAfter?: number;
  /**
   * Milliseconds a client may take to pick a nick before it is disconnected; 0 disables.
   *
   * @default {60000}
   */
  registrationTimeout?: number;
  /**
   * Milliseconds without a line from a client before it is disconnected; 0 disables.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * The room everyone starts in.
   *
   * @default {"lobby"}
   */
  defaultRoom?: string;
  /**
   * The wall clock, in milliseconds since the epoch; message times come from it.
   *
   * @default {Date.now}
   */
  now?: () => number;
}

/** Room names follow the nick rules, but may start with a digit. */
const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
/** /who and /rooms list at most this many names, so one reply stays small. */
const MAX_LISTED = 100;
/** Quit reasons and other short texts shown to others are cut to this length. */
const MAX_REASON = 100;

const HELP = [
  "*** Commands:",
  "***   /nick NAME       change your nick",
  "***   /join ROOM       go to another room (created if needed)",
  "***   /rooms           list rooms",
  "***   /who             list people in this room",
  "***   /msg NICK TEXT   private message",
  "***   /me ACTION       say what you are doing",
  "***   /quit [REASON]   leave",
  "***   /help            this list",
  "*** Anything else is a message to your room; start it with // to send a line beginning with /",
];

/**
 * The whole chat: nick registry, rooms, and one session per connected member.
 *
 * Everything here is synchronous: a line comes in, replies and broadcasts are
 * enqueued on members, and the call returns. Sending never waits for a
 * member's socket, so one slow member never slows the room.
 *
 * @example Two members chatting, with in-memory members
 * ```ts
 * import { ChatHub, type ChatMember } from "./chat_hub.ts";
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
  #options: Required<ChatHubOptions>;
  #nicks: NickRegistry<Session>;
  #rooms = new Map<string, ChatRoom>();
  #sessions = new Set<Session>();
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** What sessions may do to the hub, kept off its public surface. */
  #connections = 0;
  #messages = 0;
  #access: HubAccess = {
    countMessage: () => void this.#messages++,
    claimNick: (session, nick) => {
      const invalid = this.#nicks.validate(nick);
      if (invalid !== undefined) return `cannot use that nick: ${invalid}`;
      if (!this.#nicks.claim(nick, session)) return `cannot use nick "${nick}": it is taken`;
      return undefined;
    },
    releaseNick: (session, nick) => this.#nicks.release(nick, session),
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
  }

  /** The options in effect, defaults filled in. */
  get options(): Readonly<Required<ChatHubOptions>> {
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

/** The hub's services for its sessions. */
interface HubAccess {
  /** Counts one message said to a room or sent privately. */
  countMessage(): void;
  /** Validates and claims `nick`; returns why not, or `undefined` on success. */
  claimNick(session: Session, nick: string): string | undefined;
  releaseNick(session: Session, nick: string): void;
  findNick(nick: string): Session | undefined;
  /** The room called `name` (created if needed), or why the name is invalid. */
  roomFor(name: string): ChatRoom | string;
  leaveRoom(session: Session, room: ChatRoom): void;
  rooms(): ChatRoomInfo[];
  forget(session: Session): void;
}

/** One member's state. Implements both sides: what rooms see and what transports feed. */
class Session implements ChatSession, ChatParticipant {
  #hub: HubAccess;
  #member: ChatMember;
  #options: Required<ChatHubOptions>;
  #nick: string | undefined;
  #room: ChatRoom | undefined;
  #bucket: TokenBucket;
  #refused = 0;
  #registrationTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** performance.now() of the last line received, for the idle timeout. */
  lastActivity = performance.now();

  constructor(hub: HubAccess, member: ChatMember, options: Required<ChatHubOptions>) {
    this.#hub = hub;
    this.#member = member;
    this.#options = options;
    this.#bucket = new TokenBucket({
      capacity: options.floodBurst,
      refillPerSecond: options.floodRate,
    });
  }

  get nick(): string {
    return this.#nick ?? "";
  }

  get room(): string | undefined {
    return this.#room?.name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(line: ChatLine): void {
    if (!this.#closed) this.#member.send(line);
  }

  greet(): void {
    this.#notice("Welcome to the chat. Pick a nick: type a name, or /nick NAME");
    this.#notice(
      "A nick is a letter, then letters, digits, _ or -, " +
        `at most ${this.#options.maxNickLength} characters`,
    );
    if (this.#options.registrationTimeout > 0) {
      this.#registrationTimer = setTimeout(() => {
        this.disconnect(
          "registration timeout",
          `*** disconnected: no nick chosen within ${this.#options.registrationTimeout / 1000} s`,
        );
      }, this.#options.registrationTimeout);
    }
  }

  receive(line: string): void {
    if (this.#closed) return;
    this.lastActivity = performance.now();
    if (!this.#admit()) return;
    const size = utf8Length(line, this.#options.maxLineBytes);
    if (size > this.#options.maxLineBytes) return this.#tooLong(size);

    const text = sanitizeText(line).trim();
    if (text === "") return;
    if (text.startsWith("/") && !text.startsWith("//")) return this.#command(text);
    const message = text.startsWith("//") ? text.slice(1) : text;
    if (this.#nick === undefined) return this.#setNick(message);
    this.#say(`<${this.#nick}> ${message}`);
  }

  rejectLongLine(size: number): void {
    if (this.#closed) return;
    this.lastActivity = performance.now();
    if (this.#admit()) this.#tooLong(size);
  }

  disconnect(reason: string, notice?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#registrationTimer);
    this.#hub.forget(this);
    if (this.#room !== undefined) {
      const room = this.#room;
      this.#room = undefined;
      this.#hub.leaveRoom(this, room);
      room.broadcast(this.#line(`*** ${this.#nick} left #${room.name} (${reason})`));
    }
    if (this.#nick !== undefined) this.#hub.releaseNick(this, this.#nick);
    this.#member.close(notice === undefined ? undefined : new ChatLine(notice));
  }

  /** Flood control: takes a token, or refuses the line (and disconnects a persistent flooder). */
  #admit(): boolean {
    // A client whose bucket filled up again has calmed down: forgive earlier refusals.
    if (this.#bucket.tokens >= this.#bucket.capacity) this.#refused = 0;
    if (this.#bucket.take()) return true;
    this.#refused++;
    if (this.#refused > this.#options.floodDisconnectAfter) {
      this.disconnect("flooding", "*** disconnected: too many lines too fast");
    } else if (this.#refused === 1) {
      // One notice per burst of refusals, not one per refused line.
      this.#error(
        `too many lines: the limit is ${this.#options.floodRate} per second ` +
          `(bursts of ${this.#options.floodBurst}); lines are dropped until you slow down`,
      );
    }
    return false;
  }

  #tooLong(size: number): void {
    this.#error(
      `line too long (${size} bytes, the limit is ${this.#options.maxLineBytes}); not sent`,
    );
  }

  #command(text: string): void {
    const space = text.search(/\s/);
    const name = (space < 0 ? text.slice(1) : text.slice(1, space)).toLowerCase();
    const args = space < 0 ? "" : text.slice(space + 1).trim();
    if (name === "help") return HELP.forEach((line) => this.send(new ChatLine(line)));
    if (name === "quit") return this.#quit(args);
    if (name === "nick") return this.#setNick(args);
    if (this.#nick === undefined) {
      return this.#error("pick a nick first: type a name, or /nick NAME");
    }
    switch (name) {
      case "join":
        return this.#join(args);
      case "rooms":
        return this.#listRooms();
      case "who":
        return this.#who();
      case "msg":
        return this.#privateMessage(args);
      case "me":
        if (args === "") return this.#error("usage: /me ACTION");
        return this.#say(`* ${this.#nick} ${args}`);
      default:
        return this.#error(`unknown command /${name}; /help lists the commands`);
    }
  }

  #setNick(nick: string): void {
    if (nick === "") return this.#error("usage: /nick NAME");
    const old = this.#nick;
    if (old === nick) return;
    const problem = this.#hub.claimNick(this, nick);
    if (problem !== undefined) return this.#error(problem);
    if (old !== undefined && old.toLowerCase() !== nick.toLowerCase()) {
      this.#hub.releaseNick(this, old);
    }
    this.#nick = nick;
    if (old === undefined) {
      clearTimeout(this.#registrationTimer);
      this.#notice(`You are ${nick}. /help lists the commands`);
      this.#join(this.#options.defaultRoom);
    } else {
      this.#room?.broadcast(this.#line(`*** ${old} is now known as ${nick}`));
    }
  }

  #join(name: string): void {
    if (name === "") return this.#error("usage: /join ROOM");
    const room = this.#hub.roomFor(name);
    if (typeof room === "string") return this.#error(room);
    if (room === this.#room) return this.#error(`you are already in #${room.name}`);
    if (this.#room !== undefined) {
      const old = this.#room;
      this.#hub.leaveRoom(this, old);
      old.broadcast(this.#line(`*** ${this.#nick} left #${old.name} (joined #${room.name})`));
    }
    this.#room = room;
    const history = room.history;
    if (history.length > 0) {
      const what = history.length === 1 ? "message" : "messages";
      this.#notice(`Last ${history.length} ${what} in #${room.name}:`);
      for (const line of history) this.send(line);
    }
    room.add(this);
    room.broadcast(this.#line(`*** ${this.#nick} joined #${room.name} (${room.size} here)`));
  }

  #listRooms(): void {
    const rooms = this.#hub.rooms();
    const listed = rooms.slice(0, MAX_LISTED).map((room) => `#${room.name} (${room.size})`);
    const more = rooms.length > MAX_LISTED ? ` and ${rooms.length - MAX_LISTED} more` : "";
    this.#notice(
      `${rooms.length} room${rooms.length === 1 ? "" : "s"}: ${listed.join(", ")}${more}`,
    );
  }

  #who(): void {
    const room = this.#room!;
    const nicks = [...room.members].slice(0, MAX_LISTED).map((member) => member.nick);
    const more = room.size > MAX_LISTED ? ` and ${room.size - MAX_LISTED} more` : "";
    this.#notice(`${room.size} in #${room.name}: ${nicks.join(", ")}${more}`);
  }

  #privateMessage(args: string): void {
    const match = /^(\S+)\s+(.+)$/.exec(args);
    if (match === null) return this.#error("usage: /msg NICK TEXT");
    const [, nick, text] = match as unknown as [string, string, string];
    const target = this.#hub.findNick(nick);
    if (target === undefined) return this.#error(`no one is called "${nick}"`);
    this.#hub.countMessage();
    target.send(this.#line(`*${this.#nick}* ${text}`));
    if (target !== this) this.send(this.#line(`-> *${target.nick}* ${text}`));
  }

  #quit(reason: string): void {
    const why = reason === "" ? "quit" : `quit: ${reason.slice(0, MAX_REASON)}`;
    this.disconnect(why, "*** Bye");
  }

  /** A message to the room, stamped, relayed to the others and kept in the history. */
  #say(text: string): void {
    const room = this.#room!;
    this.#hub.countMessage();
    const line = this.#line(text);
    room.record(line);
    room.broadcast(line, this);
  }

  #line(text: string): ChatLine {
    const time = new Date(this.#options.now());
    const hh = String(time.getHours()).padStart(2, "0");
    const mm = String(time.getMinutes()).padStart(2, "0");
    return new ChatLine(`[${hh}:${mm}] ${text}`);
  }

  #notice(text: string): void {
    this.send(new ChatLine(`*** ${text}`));
  }

  #error(text: string): void {
    this.send(new ChatLine(`*** error: ${text}`));
  }
}

/**
 * The UTF-8 length of `text`, counted exactly only when it might exceed `limit`
 * (a UTF-16 code unit is at most 3 UTF-8 bytes).
 */
function utf8Length(text: string, limit: number): number {
  if (text.length * 3 <= limit) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A surrogate pair is 4 bytes: 2 for each half.
    bytes += code < 0x80 ? 1 : code < 0x800 || (code >= 0xd800 && code < 0xe000) ? 2 : 3;
  }
  return bytes;
}
