/**
 * The error a UDP request ends with when no reply came after every try, with
 * advice: a missing server and a lost datagram look the same over UDP.
 *
 * @module
 */

import { formatHostPort } from "../net/net_addr.ts";
import type { DatagramTarget } from "./datagram_requester.ts";

/**
 * No reply came after every try. Callers catch it to report loss, so it is
 * a named class.
 *
 * @example
 * ```ts
 * import { DatagramTimeoutError } from "./datagram_timeout_error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new DatagramTimeoutError({ hostname: "127.0.0.1", port: 7001 }, 3, 1000);
 * assert.match(error.message, /^no reply from 127\.0\.0\.1:7001 after 3 tries/);
 * ```
 */
export class DatagramTimeoutError extends Error {
  /** Where the request went. */
  readonly target: DatagramTarget;
  /** How many times it was sent. */
  readonly attempts: number;
  /** The wait per try, in ms. */
  readonly timeout: number;

  /**
   * Creates the error.
   *
   * @param target Where the request went.
   * @param attempts How many times it was sent.
   * @param timeout The wait per try, in ms.
   */
  constructor(target: DatagramTarget, attempts: number, timeout: number) {
    const where = formatHostPort(target.hostname, target.port);
    super(
      `no reply from ${where} after ${attempts} ${attempts === 1 ? "try" : "tries"} ` +
        `(${timeout} ms each): UDP is connectionless, so a missing server looks the same as ` +
        `a lost datagram; check that the server is running on ${where}, that no firewall ` +
        `drops UDP on that port, and that --host/--port are right`,
    );
    this.name = "DatagramTimeoutError";
    this.target = target;
    this.attempts = attempts;
    this.timeout = timeout;
  }
}
