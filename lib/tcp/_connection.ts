/**
 * One connection a TcpServer serves: the context its handler gets, plus what
 * the server tracks (last activity for the idle sweep, the handler's end).
 *
 * @module
 */

import type { ConnectionContext } from "./connection_handler.ts";

export class Connection implements ConnectionContext {
  readonly id: number;
  readonly conn: Deno.Conn;
  readonly remoteAddr: Deno.NetAddr;
  readonly signal: AbortSignal;
  lastActive = Date.now();
  /** Settles when the handler has finished and the connection is closed. */
  done: Promise<void> = Promise.resolve();

  constructor(id: number, conn: Deno.Conn, signal: AbortSignal) {
    this.id = id;
    this.conn = conn;
    this.remoteAddr = conn.remoteAddr as Deno.NetAddr;
    this.signal = signal;
  }

  touch(): void {
    this.lastActive = Date.now();
  }
}
