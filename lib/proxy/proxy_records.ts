/**
 * The TCP proxy's bookkeeping for its Ctrl+C summary: one {@linkcode ConnectionRecord} per
 * connection (the newest {@linkcode MAX_RECORDS}), and totals over all of them.
 *
 * @module
 */

import type { ProxyEnd, ProxyResult } from "./proxy_connection.ts";

/** One connection in the summary. */
export interface ConnectionRecord {
  /** The proxy's number for it. */
  id: number;
  /** The client's address. */
  client: string;
  /**
   * How it ended: a {@linkcode ProxyEnd}, `refused` (the upstream could not
   * be reached), `idle-timeout`, or `shutdown` (closed by Ctrl+C).
   */
  end: Exclude<ProxyEnd, "aborted"> | "refused" | "idle-timeout" | "shutdown";
  /** Bytes from the client to the upstream. */
  up: number;
  /** Bytes from the upstream to the client. */
  down: number;
  /** Writes made to the upstream (one per slice with `--slice`). */
  upWrites: number;
  /** Writes made to the client. */
  downWrites: number;
  /** How long it lasted, in ms. */
  ms: number;
}

/** What Ctrl+C prints. */
export interface ProxySummary {
  /** The connections, oldest first (at most {@linkcode MAX_RECORDS}). */
  connections: ConnectionRecord[];
  /** Connections not listed because of the limit. */
  omitted: number;
  /** Totals over every connection. */
  total: { connections: number; up: number; down: number };
}

/** The most connections kept for the summary; older ones count in the totals only. */
export const MAX_RECORDS = 1000;

/**
 * Collects the proxy's connections for its summary, keeping the newest
 * {@linkcode MAX_RECORDS} and counting every one in the totals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ConnectionRecord, ProxyRecords } from "./proxy_records.ts";
 *
 * const records = new ProxyRecords();
 * const entry: Omit<ConnectionRecord, "id" | "up" | "down"> = {
 *   client: "127.0.0.1:5000",
 *   end: "closed",
 *   upWrites: 1,
 *   downWrites: 1,
 *   ms: 3,
 * };
 * records.add({ id: 1, up: 5, down: 5, ...entry });
 * records.add({ id: 2, up: 2, down: 0, ...entry });
 * assert.deepEqual(records.summary.total, { connections: 2, up: 7, down: 5 });
 * assert.equal(records.summary.connections.length, 2);
 * ```
 */
export class ProxyRecords {
  #records: ConnectionRecord[] = [];
  #total = { connections: 0, up: 0, down: 0 };
  #omitted = 0;

  /**
   * Adds one finished connection.
   *
   * @param entry The connection.
   */
  add(entry: ConnectionRecord): void {
    this.#total.connections++;
    this.#total.up += entry.up;
    this.#total.down += entry.down;
    this.#records.push(entry);
    if (this.#records.length > MAX_RECORDS) {
      this.#records.shift();
      this.#omitted++;
    }
  }

  /** The connections so far and the totals. */
  get summary(): ProxySummary {
    return { connections: this.#records, omitted: this.#omitted, total: this.#total };
  }
}

/**
 * How a proxied connection ended, for its record: `aborted` (by Ctrl+C) becomes `shutdown`,
 * and a failure because the server closed an idle client under the pipe becomes
 * `idle-timeout`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordEnd } from "./proxy_records.ts";
 *
 * const pipe = { end: "eof", bytes: 0, forwarded: 0, writes: 0, maxQueuedBytes: 0 } as const;
 * assert.equal(recordEnd({ end: "aborted", up: pipe, down: pipe }), "shutdown");
 * const idle = new Deno.errors.Interrupted("cancelled");
 * assert.equal(recordEnd({ end: "failed", error: idle, up: pipe, down: pipe }), "idle-timeout");
 * ```
 *
 * @param result What {@linkcode proxyConnection} returned.
 * @returns The record's `end`.
 */
export function recordEnd(result: ProxyResult): ConnectionRecord["end"] {
  // serveTcp closes an idle client itself: our pipe's pending read on it is
  // then cancelled (Interrupted) or finds the socket gone (BadResource).
  const closedUnderUs = result.error instanceof Deno.errors.Interrupted ||
    result.error instanceof Deno.errors.BadResource;
  return result.end === "failed" && closedUnderUs
    ? "idle-timeout"
    : result.end === "aborted"
    ? "shutdown"
    : result.end;
}
