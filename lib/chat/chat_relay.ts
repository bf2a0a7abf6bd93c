/**
 * The seam between one {@linkcode ChatHub} and the others it shares rooms with: other
 * servers through Redis ({@linkcode RedisRelay}), or other worker threads of the same
 * process. The hub stays synchronous for everything local and asks the relay only for
 * what other hubs know (who holds a nick, who is in a room, a room's history).
 *
 * Every method that returns a promise may reject when the others are unreachable; the hub
 * then falls back to what it knows locally and says so, so local members keep chatting.
 *
 * @module
 */

import type { ChatRoomInfo } from "./chat_session.ts";

/** One message of a room's shared history, oldest first in {@linkcode ChatRelayJoin.history}. */
export interface ChatRelayLine {
  /** An id unique across hubs (`SERVER:SEQ`), to drop a line that arrives twice. */
  id: string;
  /** The line as members see it, e.g. `[12:30] <alice> hi`. */
  text: string;
}

/** What {@linkcode ChatRelay.join} learns about the room just joined. */
export interface ChatRelayJoin {
  /** The room's last messages across all hubs, oldest first. */
  history: ChatRelayLine[];
  /** Members in the room across all hubs, the joiner included. */
  size: number;
}

/** What a relay calls on its hub when something arrives from the others. */
export interface ChatRelaySink {
  /**
   * A line said in `room` on another hub: deliver it to local members of that room.
   *
   * @param room The room's name, without `#`.
   * @param text The line.
   * @param id The line's id when it is a message kept in history (not a join notice).
   */
  deliverToRoom(room: string, text: string, id: string | undefined): void;
  /**
   * A private message from another hub for local member `to`.
   *
   * @returns `true` if `to` is here.
   */
  deliverPrivate(to: string, text: string): boolean;
  /** Tells every local member `*** ${text}` (the others became unreachable, or are back). */
  notifyAll(text: string): void;
  /** The local members with a nick, and their room, for the relay's periodic refresh. */
  members(): Iterable<{ nick: string; room: string | undefined }>;
  /** While the others were unreachable, another hub took `nick`, held here too. */
  nickConflict(nick: string): void;
}

/** Shares rooms, nicks, presence and history with other hubs. */
export interface ChatRelay {
  /** Called once by the hub before any other method. */
  attach(sink: ChatRelaySink): void;
  /** A short id of this hub, unique among those sharing rooms (used in line ids). */
  readonly id: string;
  /**
   * Claims `nick` across hubs (it is already free on this hub).
   *
   * @returns `true` if it is ours now, `false` if another hub holds it.
   */
  claimNick(nick: string): Promise<boolean>;
  /** Frees `nick` if this hub holds it. Fire and forget. */
  releaseNick(nick: string): void;
  /** A local member joins `room`: start relaying it, count the member, fetch the history. */
  join(room: string, nick: string): Promise<ChatRelayJoin>;
  /** A local member leaves `room` (or disconnects). Fire and forget. */
  leave(room: string, nick: string): void;
  /** A local member in `room` changed nick. Fire and forget. */
  rename(room: string, oldNick: string, newNick: string): void;
  /**
   * Sends a line said in `room` here to the other hubs; with `id`, also keeps it in the
   * room's shared history. Fire and forget.
   */
  publish(room: string, text: string, id: string | undefined): void;
  /** The nicks in `room` across hubs, sorted. */
  who(room: string): Promise<string[]>;
  /** The rooms with members across hubs. */
  rooms(): Promise<ChatRoomInfo[]>;
  /**
   * Sends a private message to `to` on another hub.
   *
   * @returns `true` if a hub holding `to` received it.
   */
  sendPrivate(to: string, text: string): Promise<boolean>;
  /** Whether the others are reachable now. */
  readonly connected: boolean;
}
