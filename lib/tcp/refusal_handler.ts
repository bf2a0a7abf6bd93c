/**
 * The contract for telling a client over the connection limit that the server
 * is full, in the client's own protocol (see `serveTcp`'s `refuse` option).
 *
 * @module
 */

/** What a {@linkcode RefusalHandler} gets besides the connection. */
export interface RefusalContext {
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** How many connections were being served when this client was accepted. */
  readonly connectionCount: number;
  /** The limit in force: `maxConnections`, or lower while the open-file limit is remembered. */
  readonly limit: number;
  /** Why: `"maxConnections"`, or `"descriptors"` when the learned open-file ceiling is lower. */
  readonly reason: "maxConnections" | "descriptors";
  /** Aborted when `refusalTimeout` passes or the server shuts down: stop, the server closes. */
  readonly signal: AbortSignal;
}

/**
 * Refuses one client over the limit, in the client's protocol; the server
 * closes the connection after the returned promise settles.
 */
export type RefusalHandler = (
  conn: Deno.Conn,
  ctx: RefusalContext,
) => void | Promise<void>;
