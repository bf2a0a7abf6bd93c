/**
 * The chat room core: sessions, nicks, rooms, commands and per-member limits,
 * with no socket code. A transport (TCP lines, WebSocket messages) turns each
 * connection into a {@linkcode ChatMember}, calls {@linkcode ChatHub.connect},
 * and feeds the lines it receives to the returned {@linkcode ChatSession}.
 *
 * @module
 */

import { ChatLine } from "./chat_line.ts";
import type { ChatRelay, ChatRelayJoin, ChatRelaySink } from "./chat_relay.ts";
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
  /**
   * The client finished sending (end of stream): handles what it sent first, then disconnects
   * like {@linkcode ChatSession.disconnect}. Differs only while the hub awaits a relay's answer
   * (`printf 'alice\nhi\n' | nc -N` still says hi to the room), at most the relay's timeout.
   * Idempotent.
   *
   * @returns A promise that resolves once the session is disconnected (then await the
   * member's own close).
   */
  end(reason: string): Promise<void>;
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
  /**
   * Shares rooms, nicks, presence and history with other hubs (other servers through Redis,
   * or other worker threads); without it the hub is alone.
   *
   * @default {undefined}
   */
  relay?: ChatRelay;
}

/** The hub's options with their defaults filled in (the relay stays optional). */
export type ChatHubSettings = Required<Omit<ChatHubOptions, "relay">>;

/** Room names follow the nick rules, but may start with a digit. */
const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
/** /who and /rooms list at most this many names, so one reply stays small. */
const MAX_LISTED = 100;
/** Quit reasons and other short texts shown to others are cut to this length. */
const MAX_REASON = 100;
/**
 * Lines a member may type while the hub waits for the relay (a nick claim, a join); they
 * are handled in order once it answers. Flood control already bounds them; this is a backstop.
 */
const MAX_BACKLOG = 64;
/**
 * Lines held for a member while its join waits for the shared history (one round trip to the
 * relay, at most its timeout); a busier room than that drops the rest for this member.
 */
const MAX_JOIN_HOLD = 1024;
/** Said to local members when the relay's answer did not come: what they see is local only. */
const UNREACHABLE = "other servers are unreachable: this server only";

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

/** The hub's services for its sessions. */
interface HubAccess {
  /** The other hubs, if any. */
  relay: ChatRelay | undefined;
  /** Counts one message said to a room or sent privately. */
  countMessage(): void;
  /** Gives a history line its id, unique across hubs. */
  newLineId(line: ChatLine): string;
  /** The id of a history line, if it has one. */
  lineId(line: ChatLine): string | undefined;
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
  #options: ChatHubSettings;
  #nick: string | undefined;
  #room: ChatRoom | undefined;
  #bucket: TokenBucket;
  #refused = 0;
  #registrationTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /**
   * Answers awaited from the relay (a nick claim can lead to a join: two at once); while above
   * 0, lines typed wait in #backlog.
   */
  #waiting = 0;
  #backlog: string[] = [];
  /** Set by end() while waiting: the reason to disconnect with once the backlog is handled. */
  #ending: string | undefined;
  /** Resolved by disconnect(), for end(). */
  #disconnected = Promise.withResolvers<void>();
  /** While a join waits for the shared history: room lines that arrived meanwhile. */
  #joining: ChatLine[] | undefined;
  /** performance.now() of the last line received, for the idle timeout. */
  lastActivity = performance.now();

  constructor(hub: HubAccess, member: ChatMember, options: ChatHubSettings) {
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
    if (this.#closed) return;
    // Shown after the history, unless the history already holds them.
    if (this.#joining === undefined) this.#member.send(line);
    else if (this.#joining.length < MAX_JOIN_HOLD) this.#joining.push(line);
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
    if (this.#waiting > 0) {
      if (this.#backlog.length < MAX_BACKLOG) this.#backlog.push(text);
      else this.#error("too many lines while the server waits for the others; not sent");
      return;
    }
    this.#handle(text);
  }

  /** Handles one sanitised, non-empty line. */
  #handle(text: string): void {
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
    this.#disconnected.resolve();
    this.#joining = undefined;
    clearTimeout(this.#registrationTimer);
    this.#hub.forget(this);
    if (this.#room !== undefined) {
      const room = this.#room;
      this.#room = undefined;
      this.#hub.leaveRoom(this, room);
      this.#tell(room, this.#line(`*** ${this.#nick} left #${room.name} (${reason})`));
    }
    if (this.#nick !== undefined) this.#hub.releaseNick(this, this.#nick);
    this.#member.close(notice === undefined ? undefined : new ChatLine(notice));
  }

  end(reason: string): Promise<void> {
    if (this.#waiting === 0) this.disconnect(reason);
    else this.#ending ??= reason;
    return this.#disconnected.promise;
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
    const relay = this.#hub.relay;
    const sameKey = old !== undefined && old.toLowerCase() === nick.toLowerCase();
    if (relay === undefined || sameKey) return this.#nickChanged(old, nick);
    // Free here; now ask the other hubs. Unreachable: the local check is all there is.
    this.#wait(
      relay.claimNick(nick).catch(() => true).then((ours) => {
        if (this.#closed || !ours) {
          this.#hub.releaseNick(this, nick);
          if (!ours) this.#error(`cannot use nick "${nick}": it is taken`);
          return;
        }
        this.#nickChanged(old, nick);
      }),
    );
  }

  #nickChanged(old: string | undefined, nick: string): void {
    if (old !== undefined && old.toLowerCase() !== nick.toLowerCase()) {
      this.#hub.releaseNick(this, old);
    }
    this.#nick = nick;
    if (old === undefined) {
      clearTimeout(this.#registrationTimer);
      this.#notice(`You are ${nick}. /help lists the commands`);
      this.#join(this.#options.defaultRoom);
    } else if (this.#room !== undefined) {
      this.#hub.relay?.rename(this.#room.name, old, nick);
      this.#tell(this.#room, this.#line(`*** ${old} is now known as ${nick}`));
    }
  }

  /**
   * Holds the member's next lines until `task` settles (the relay answered), then handles
   * them in order. `task` handles its own failures.
   */
  #wait(task: Promise<void>): void {
    this.#waiting++;
    task.catch(() => {}).finally(() => {
      this.#waiting--;
      while (this.#waiting === 0 && !this.#closed && this.#backlog.length > 0) {
        this.#handle(this.#backlog.shift()!);
      }
      if (this.#waiting === 0 && this.#ending !== undefined) this.disconnect(this.#ending);
    });
  }

  /** Sends `line` to the room's members here and, through the relay, everywhere else. */
  #tell(room: ChatRoom, line: ChatLine, except?: ChatParticipant, id?: string): void {
    room.broadcast(line, except);
    this.#hub.relay?.publish(room.name, line.text, id);
  }

  #join(name: string): void {
    if (name === "") return this.#error("usage: /join ROOM");
    const room = this.#hub.roomFor(name);
    if (typeof room === "string") return this.#error(room);
    if (room === this.#room) return this.#error(`you are already in #${room.name}`);
    if (this.#room !== undefined) {
      const old = this.#room;
      this.#hub.leaveRoom(this, old);
      this.#tell(old, this.#line(`*** ${this.#nick} left #${old.name} (joined #${room.name})`));
    }
    this.#room = room;
    const relay = this.#hub.relay;
    if (relay !== undefined) {
      // In the room at once, so nothing said from now on is missed: it waits in #joining
      // until the shared history is shown, and lines the history holds already are dropped.
      room.add(this);
      this.#joining = [];
      const nick = this.#nick!;
      return this.#wait(
        relay.join(room.name, nick)
          .catch((): ChatRelayJoin => ({
            history: room.history.map((line) => ({
              id: this.#hub.lineId(line) ?? "",
              text: line.text,
            })),
            size: room.size,
          }))
          .then(({ history, size }) => {
            const waiting = this.#joining;
            this.#joining = undefined;
            if (this.#closed || this.#room !== room || waiting === undefined) return;
            this.#showHistory(room.name, history.map((entry) => new ChatLine(entry.text)));
            const shown = new Set(history.map((entry) => entry.id));
            for (const line of waiting) {
              const id = this.#hub.lineId(line);
              if (id === undefined || !shown.has(id)) this.#member.send(line);
            }
            const joined = `*** ${this.#nick} joined #${room.name} (${size} here)`;
            this.#tell(room, this.#line(joined));
          }),
      );
    }
    this.#showHistory(room.name, room.history);
    room.add(this);
    room.broadcast(this.#line(`*** ${this.#nick} joined #${room.name} (${room.size} here)`));
  }

  #showHistory(name: string, history: ChatLine[]): void {
    if (history.length > 0) {
      const what = history.length === 1 ? "message" : "messages";
      this.#notice(`Last ${history.length} ${what} in #${name}:`);
      for (const line of history) this.send(line);
    }
  }

  #listRooms(): void {
    const relay = this.#hub.relay;
    if (relay === undefined) return this.#showRooms(this.#hub.rooms(), "");
    this.#wait(
      relay.rooms().then(
        (shared) => {
          // The default room is listed even when empty, as on one server.
          const names = new Set(shared.map((room) => room.name));
          const local = this.#hub.rooms().filter((room) => !names.has(room.name));
          const all = [...shared, ...local].sort((a, b) => a.name.localeCompare(b.name));
          this.#showRooms(all, "");
        },
        () => this.#showRooms(this.#hub.rooms(), ` (${UNREACHABLE})`),
      ),
    );
  }

  #showRooms(rooms: ChatRoomInfo[], note: string): void {
    const listed = rooms.slice(0, MAX_LISTED).map((room) => `#${room.name} (${room.size})`);
    const more = rooms.length > MAX_LISTED ? ` and ${rooms.length - MAX_LISTED} more` : "";
    this.#notice(
      `${rooms.length} room${rooms.length === 1 ? "" : "s"}: ${listed.join(", ")}${more}${note}`,
    );
  }

  #who(): void {
    const room = this.#room!;
    const local = () => [...room.members].map((member) => member.nick);
    const relay = this.#hub.relay;
    if (relay === undefined) return this.#showWho(room.name, local(), "");
    this.#wait(
      relay.who(room.name).then(
        (nicks) => this.#showWho(room.name, nicks, ""),
        () => this.#showWho(room.name, local(), ` (${UNREACHABLE})`),
      ),
    );
  }

  #showWho(name: string, nicks: string[], note: string): void {
    const listed = nicks.slice(0, MAX_LISTED);
    const more = nicks.length > MAX_LISTED ? ` and ${nicks.length - MAX_LISTED} more` : "";
    this.#notice(`${nicks.length} in #${name}: ${listed.join(", ")}${more}${note}`);
  }

  #privateMessage(args: string): void {
    const match = /^(\S+)\s+(.+)$/.exec(args);
    if (match === null) return this.#error("usage: /msg NICK TEXT");
    const [, nick, text] = match as unknown as [string, string, string];
    const target = this.#hub.findNick(nick);
    const relay = this.#hub.relay;
    if (target === undefined && relay !== undefined) {
      const line = this.#line(`*${this.#nick}* ${text}`);
      return this.#wait(
        relay.sendPrivate(nick, line.text).then(
          (delivered) => {
            if (!delivered) return this.#error(`no one is called "${nick}"`);
            this.#hub.countMessage();
            this.send(this.#line(`-> *${nick}* ${text}`));
          },
          () => this.#error(`no one here is called "${nick}" (${UNREACHABLE})`),
        ),
      );
    }
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
    const id = this.#hub.relay === undefined ? undefined : this.#hub.newLineId(line);
    this.#tell(room, line, this, id);
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
