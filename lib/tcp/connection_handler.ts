/**
 * The contract between `serveTcp` and the code that serves one connection: the handler's
 * signature, and the context it gets (an id for logs, the client's address, the shutdown
 * signal, and `touch()` for the idle timeout).
 *
 * @module
 */

/** What a connection handler gets besides the connection itself. */
export interface ConnectionContext {
  /** A number unique to this connection within the server, for logs. */
  readonly id: number;
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** Aborted when the server begins shutting down: finish up and return. */
  readonly signal: AbortSignal;
  /** Marks the connection active now, postponing the idle timeout. */
  touch(): void;
}

/**
 * Handles one connection; the server closes it after the returned promise settles.
 *
 * @example A handler that greets each client by its connection id
 * ```ts
 * import type { ConnectionHandler } from "./connection_handler.ts";
 * import { serveTcp } from "./serve_tcp.ts";
 * import assert from "node:assert/strict";
 *
 * const greet: ConnectionHandler = async (conn, ctx) => {
 *   await conn.write(new TextEncoder().encode(`hello #${ctx.id}\n`));
 * };
 * await using server = serveTcp(greet, { port: 0 });
 * using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const buffer = new Uint8Array(64);
 * const n = await conn.read(buffer);
 * assert.equal(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), "hello #1\n");
 * ```
 */
export type ConnectionHandler = (
  conn: Deno.Conn,
  ctx: ConnectionContext,
) => void | Promise<void>;
