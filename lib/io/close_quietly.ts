/**
 * Closing a connection, listener or file that may already be closed.
 *
 * It lives in io/ (not beside the TCP server) so a client can import it
 * without pulling in server code.
 *
 * @module
 */

/**
 * Closes a connection or listener, ignoring the error when it is already
 * closed (or any other error from `close()`: there is nothing left to do).
 *
 * @param closer Anything with `close()`.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./close_quietly.ts";
 * import assert from "node:assert/strict";
 *
 * let closes = 0;
 * const resource = {
 *   close() {
 *     if (++closes > 1) throw new Deno.errors.BadResource("Bad resource ID");
 *   },
 * };
 * closeQuietly(resource);
 * closeQuietly(resource); // no error the second time
 * assert.equal(closes, 2);
 * ```
 */
export function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}
