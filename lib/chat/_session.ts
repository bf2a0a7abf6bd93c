/**
 * One member's state inside a {@linkcode ChatHub}: flood control, the nick,
 * the room, commands and the relay round trips. Private to the chat package;
 * transports see it as a {@linkcode ChatSession}.
 *
 * @module
 */

import { ChatLine } from "./chat_line.ts";
import type { ChatRelay, ChatRelayJoin } from "./chat_relay.ts";
import { type ChatParticipant, ChatRoom } from "./chat_room.ts";
import { sanitizeText } from "./sanitize_text.ts";
import type { ChatMember, ChatRoomInfo, ChatSession } from "./chat_session.ts";
import type { ChatHubSettings } from "./chat_hub_options.ts";
import { TokenBucket } from "../net/token_bucket.ts";

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

/** The hub's services for its sessions. */
export interface HubAccess {
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
export class Session implements ChatSession, ChatParticipant {
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
