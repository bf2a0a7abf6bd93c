/**
 * What the chat hub and a transport say to each other about one connection:
 * the {@linkcode ChatMember} a transport hands to {@linkcode ChatHub.connect},
 * the {@linkcode ChatSession} it gets back, and the {@linkcode ChatRoomInfo}
 * the hub and its relays list rooms with.
 *
 * @module
 */

import type { ChatLine } from "./chat_line.ts";

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
