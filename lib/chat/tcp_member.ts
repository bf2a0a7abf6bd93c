/**
 * A chat member on a TCP connection: the hub's `send()` becomes bytes on a bounded queue.
 *
 * @module
 */

import type { ChatMember } from "./chat_session.ts";
import type { ChatLine } from "./chat_line.ts";
import type { OutboundQueue } from "../io/outbound_queue.ts";
import { closeQuietly } from "../io/close_quietly.ts";

/** Options for {@linkcode TcpMember}. */
export interface TcpMemberOptions {
  /**
   * How long a closing member's last lines (a goodbye, a notice) may take to drain, in ms.
   *
   * @default {1000}
   */
  closeGrace?: number;
}

/**
 * A chat member on a TCP connection: `send()` enqueues the line's bytes on a
 * bounded {@linkcode OutboundQueue} that drains at the client's own pace, so a
 * client that stops reading costs at most the queue's limit.
 *
 * @example A member whose queue writes to a connection
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { OutboundQueue } from "../io/outbound_queue.ts";
 * import { ChatHub } from "./chat_hub.ts";
 * import { TcpMember } from "./tcp_member.ts";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 7002 });
 * const member = new TcpMember(conn, new OutboundQueue(conn));
 * const hub = new ChatHub();
 * const session = hub.connect(member);
 * session.disconnect("bye");
 * await member.closed;
 * assert.equal(hub.sessionCount, 0);
 * hub.close("done");
 * ```
 */
export class TcpMember implements ChatMember {
  #conn: Deno.Conn;
  #queue: OutboundQueue;
  #closeGrace: number;
  #closed: Promise<void> | undefined;

  /**
   * Wraps a connection and the queue that writes to it.
   *
   * @param conn The client's connection; `close()` closes it once the queue has drained.
   * @param queue The bounded queue that writes to `conn`.
   * @param options The close grace period.
   */
  constructor(conn: Deno.Conn, queue: OutboundQueue, options: TcpMemberOptions = {}) {
    this.#conn = conn;
    this.#queue = queue;
    this.#closeGrace = options.closeGrace ?? 1_000;
  }

  /**
   * Queues one line for the client.
   *
   * @param line The line, already encoded.
   */
  send(line: ChatLine): void {
    this.#queue.enqueue(line.bytes);
  }

  /**
   * Flushes the queue (with `finalLine` last) for up to the close grace, then closes the
   * connection. Calling it again does nothing.
   *
   * @param finalLine A last line for the client, such as why it is disconnected.
   */
  close(finalLine?: ChatLine): void {
    this.#closed ??= this.#queue.end(finalLine?.bytes, this.#closeGrace)
      .then(() => this.#sendCloseNotify())
      // Closing the connection also ends the session's pending read.
      .then(() => closeQuietly(this.#conn));
  }

  /**
   * Over TLS, ends our side with a close_notify alert (closeWrite) before closing: without it the
   * peer cannot tell our close from a truncation attack, and `openssl s_client` reports
   * "unexpected eof while reading". Bounded by the close grace, as a peer may not read at all.
   */
  async #sendCloseNotify(): Promise<void> {
    if (!("handshake" in this.#conn)) return; // a plain TCP connection: close() sends FIN
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#conn.closeWrite().catch(() => {}),
      new Promise((resolve) => timer = setTimeout(resolve, this.#closeGrace)),
    ]);
    clearTimeout(timer);
  }

  /** Resolves once `close()` has flushed (or given up) and closed the connection. */
  get closed(): Promise<void> {
    return this.#closed ?? Promise.resolve();
  }
}
