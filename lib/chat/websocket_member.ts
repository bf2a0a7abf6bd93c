/**
 * A chat member on a WebSocket: one chat line per text message, with the same
 * queue bounds as a TCP member.
 *
 * @module
 */

import type { ChatMember } from "./chat_session.ts";
import type { ChatLine } from "./chat_line.ts";
import { CLOSE_CODE, truncateCloseReason } from "../websocket/websocket_close.ts";
import type { WebSocketConnection } from "../websocket/websocket_connection.ts";
import { BroadcastFrames } from "../websocket/broadcast_frames.ts";

/**
 * What the chat tells everyone on shutdown; a WebSocket member closed with it gets close
 * code 1001 ("going away").
 */
export const CHAT_SHUTDOWN_REASON = "server shutting down";

/**
 * Text frames of chat lines: a line broadcast to 100 browsers is framed once, not 100 times,
 * and compressed once for those that negotiated permessage-deflate.
 */
const FRAMES = new WeakMap<ChatLine, BroadcastFrames>();

function frameOf(line: ChatLine, ws: WebSocketConnection): Uint8Array {
  let frames = FRAMES.get(line);
  if (frames === undefined) {
    frames = new BroadcastFrames(line.text);
    FRAMES.set(line, frames);
  }
  return frames.frameFor(ws.perMessageDeflate);
}

/** The queue bounds of a {@linkcode WebSocketMember}, the same numbers as a TCP member's. */
export interface WebSocketMemberOptions {
  /**
   * Send-queue bytes past which the member is dropped at once. Create the connection with
   * `maxBufferedAmount` equal to this: the connection enforces it, the member reports it.
   *
   * @default {1048576}
   */
  hardLimit?: number;
  /**
   * Send-queue bytes that drop the member when held for `softTimeout`.
   *
   * @default {262144}
   */
  softLimit?: number;
  /**
   * Milliseconds the queue may stay above `softLimit`.
   *
   * @default {10000}
   */
  softTimeout?: number;
  /**
   * Called (with a "Cannot queue output: ..." message) when a bound is crossed; the caller
   * disconnects the session.
   *
   * @default {() => {}}
   */
  onSlow?: (message: string) => void;
}

/**
 * A chat member on a WebSocket: one chat line per text message.
 *
 * The connection's own send queue enforces the hard bound (it is created with
 * `maxBufferedAmount: hardLimit`): a send that would cross it drops the queued frames and closes
 * with 1008, as a TCP member's queue drops its data. The soft bound (above `softLimit` for
 * `softTimeout`) is checked here, at each send and when the timer fires, because the connection
 * has only one bound. Each line is framed (and compressed) once however many members it goes
 * to.
 *
 * @example A WebSocket member joining a hub
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { ChatHub } from "./chat_hub.ts";
 * import { WebSocketMember } from "./websocket_member.ts";
 *
 * // `ws` is a server-side WebSocketConnection, e.g. from acceptHttpUpgrade().
 * const hub = new ChatHub();
 * let session = undefined;
 * const member = new WebSocketMember(ws, {
 *   onSlow: () => session?.disconnect("too slow"),
 * });
 * session = hub.connect(member);
 * assert.equal(hub.sessionCount, 1);
 * ```
 */
export class WebSocketMember implements ChatMember {
  #ws: WebSocketConnection;
  #hardLimit: number;
  #softLimit: number;
  #softTimeout: number;
  #onSlow: (message: string) => void;
  #softTimer: ReturnType<typeof setTimeout> | undefined;
  #closing = false;

  /**
   * Wraps a server-side WebSocket connection.
   *
   * @param ws The connection, created with `maxBufferedAmount` equal to `hardLimit`.
   * @param options The queue bounds and what to do when one is crossed.
   */
  constructor(ws: WebSocketConnection, options: WebSocketMemberOptions = {}) {
    this.#ws = ws;
    this.#hardLimit = options.hardLimit ?? 1_048_576;
    this.#softLimit = options.softLimit ?? 262_144;
    this.#softTimeout = options.softTimeout ?? 10_000;
    this.#onSlow = options.onSlow ?? (() => {});
  }

  /**
   * Queues one line as a text frame; reports a crossed bound through `onSlow`.
   *
   * @param line The line to send.
   */
  send(line: ChatLine): void {
    if (this.#closing) return;
    const frame = frameOf(line, this.#ws);
    const buffered = this.#ws.bufferedAmount + frame.length;
    if (!this.#ws.sendFrame(frame)) {
      if (buffered > this.#hardLimit) {
        this.#onSlow(
          `Cannot queue output: ${buffered} bytes exceed the hard limit of ${this.#hardLimit} bytes`,
        );
      }
      return;
    }
    if (buffered <= this.#softLimit) {
      clearTimeout(this.#softTimer);
      this.#softTimer = undefined;
      return;
    }
    this.#softTimer ??= setTimeout(() => {
      this.#softTimer = undefined;
      const now = this.#ws.bufferedAmount;
      if (now <= this.#softLimit) return;
      this.#onSlow(
        `Cannot queue output: more than ${this.#softLimit} bytes queued for ` +
          `${this.#softTimeout} ms (${now} now)`,
      );
    }, this.#softTimeout);
  }

  /**
   * Sends `finalLine` if it fits, then closes with a code that says why: 1001 on shutdown,
   * 1008 for "disconnected ..." lines, 1000 otherwise; the reason repeats the line.
   *
   * @param finalLine A last line for the client.
   */
  close(finalLine?: ChatLine): void {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#softTimer);
    let code: number = CLOSE_CODE.NORMAL;
    let reason = "";
    if (finalLine !== undefined) {
      const frame = frameOf(finalLine, this.#ws);
      // The last line goes out only if it fits; the close reason repeats it anyway.
      if (this.#ws.bufferedAmount + frame.length <= this.#hardLimit) {
        this.#ws.sendFrame(frame);
      }
      reason = truncateCloseReason(finalLine.text.replace(/^\*\*\* /, ""));
      if (reason === CHAT_SHUTDOWN_REASON) code = CLOSE_CODE.GOING_AWAY;
      else if (reason.startsWith("disconnected")) code = CLOSE_CODE.POLICY_VIOLATION;
    }
    this.#ws.close(code, reason).catch(() => {});
  }
}
