/**
 * Advice for the errors a UDP client meets while binding its socket or sending: the exact
 * `--allow-net` flag to add, the datagram size limit, or the server it could not talk to.
 *
 * @module
 */

import { FrameTooLargeError } from "../framing/frame_errors.ts";
import { ListenError } from "../net/net_errors.ts";
import { formatHostPort } from "../net/net_addr.ts";
import { MAX_UDP_PAYLOAD } from "../udp/echo_probe.ts";
import { UnstableNetError } from "../udp/listen_udp.ts";

/** The server a UDP client talks to, for {@linkcode explainUdpError}. */
export interface UdpErrorTarget {
  /** The server's address, without brackets. */
  hostname: string;
  /** The server's port. */
  port: number;
  /**
   * Bytes of each datagram taken by the client's own header, for the size advice.
   *
   * @default {0}
   */
  headerSize?: number;
}

/**
 * Turns an error from binding a UDP client's socket or sending to `hostname:port` into one line
 * of advice, for `error: ...` on stderr.
 *
 * @param error What was thrown.
 * @param target The server, and the client's header size.
 * @returns The advice, without the `error: ` prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainUdpError } from "./explain_udp_error.ts";
 *
 * assert.equal(
 *   explainUdpError(new Deno.errors.NotCapable("no"), { hostname: "::1", port: 7001 }),
 *   "permission denied: run with --allow-net=[::1] to send to [::1]:7001 (and --unstable-net)",
 * );
 * assert.equal(explainUdpError(new Error("boom"), { hostname: "127.0.0.1", port: 7001 }), "cannot talk to 127.0.0.1:7001: boom");
 * ```
 */
export function explainUdpError(error: unknown, target: UdpErrorTarget): string {
  const { hostname, port, headerSize = 0 } = target;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const where = formatHostPort(hostname, port);
  if (error instanceof Deno.errors.NotCapable) {
    return `permission denied: run with --allow-net=${host} to send to ${where} (and --unstable-net)`;
  }
  if (error instanceof FrameTooLargeError) {
    return `${error.message}: a UDP datagram holds at most ${MAX_UDP_PAYLOAD} bytes, ` +
      `${headerSize} of them our header`;
  }
  // listenUdp's messages already say what to do.
  if (error instanceof UnstableNetError) return error.message;
  if (error instanceof ListenError) {
    // A remote server means binding the wildcard address: both need permission.
    const wildcard = ["0.0.0.0", "::"].includes(error.hostname);
    if (error.cause instanceof Deno.errors.NotCapable && wildcard) {
      const bound = error.hostname === "::" ? "[::]" : error.hostname;
      return `permission denied: run with --allow-net=${bound},${host} to bind ${bound} ` +
        `and send to ${where}`;
    }
    return error.message;
  }
  return `cannot talk to ${where}: ${error instanceof Error ? error.message : String(error)}`;
}
