/**
 * The text form of the TCP proxy's Ctrl+C summary.
 *
 * @module
 */

import { formatBytes } from "./format_bytes.ts";
import { formatCount } from "./format_count.ts";

/**
 * What {@linkcode formatProxySummary} reads: the shape of `ProxySummary` in
 * lib/proxy/proxy_records.ts, written out because the CLI package does not import the proxy's.
 */
export interface ProxySummaryText {
  /** The connections, oldest first: number, client address, how it ended, ms, bytes each way. */
  connections: readonly {
    id: number;
    client: string;
    end: string;
    ms: number;
    up: number;
    down: number;
  }[];
  /** Connections not listed. */
  omitted: number;
  /** Totals over every connection. */
  total: { connections: number; up: number; down: number };
}

/**
 * Formats the proxy's summary (a `ProxySummary`): one line per connection (how it ended, how long it
 * lasted, bytes each way), a note for connections left out, then the totals.
 *
 * @param summary The summary, from `ProxyRecords.summary`.
 * @returns The lines joined with `\n`, without a trailing newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProxySummary } from "./format_proxy_summary.ts";
 *
 * const connection = {
 *   id: 1,
 *   client: "127.0.0.1:50842",
 *   end: "closed" as const,
 *   up: 26,
 *   down: 26,
 *   upWrites: 1,
 *   downWrites: 1,
 *   ms: 99,
 * };
 * const total = { connections: 1, up: 26, down: 26 };
 * assert.equal(
 *   formatProxySummary({ connections: [connection], omitted: 0, total }),
 *   "#1 127.0.0.1:50842 closed after 99 ms: up 26 B, down 26 B\n" +
 *     "total: 1 connection, up 26 B (client to server), down 26 B (server to client)",
 * );
 * ```
 */
export function formatProxySummary(summary: ProxySummaryText): string {
  const lines = summary.connections.map((c) =>
    `#${c.id} ${c.client} ${c.end} after ${c.ms} ms: up ${formatBytes(c.up)}, down ${
      formatBytes(c.down)
    }`
  );
  if (summary.omitted > 0) lines.unshift(`(${summary.omitted} older connections not listed)`);
  const t = summary.total;
  lines.push(
    `total: ${formatCount(t.connections, "connection")}, up ${
      formatBytes(t.up)
    } (client to server), down ${formatBytes(t.down)} (server to client)`,
  );
  return lines.join("\n");
}
