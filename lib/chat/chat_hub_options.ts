/**
 * The options of {@linkcode ChatHub}: limits, timeouts, the default room, the
 * clock and the relay, each with its default.
 *
 * @module
 */

import type { ChatRelay } from "./chat_relay.ts";

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
