/**
 * Formatting of network addresses for logs and `listening on` lines.
 *
 * @module
 */

/**
 * Formats a host and port as `host:port`, with brackets around IPv6
 * addresses (`[::1]:7000`), the form URLs and `nc`-style tools expect.
 *
 * @param hostname An IPv4 or IPv6 address or a host name.
 * @param port The port.
 * @returns The joined address.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./net_addr.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatHostPort("127.0.0.1", 7000), "127.0.0.1:7000");
 * assert.equal(formatHostPort("::1", 7000), "[::1]:7000");
 * ```
 */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":") && !hostname.startsWith("[")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/**
 * Formats a Deno network address as `host:port` (brackets for IPv6).
 *
 * @param addr An address from `listener.addr`, `conn.remoteAddr` or a datagram.
 * @returns The address as text; Unix and other transports give their path or name.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./net_addr.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAddr({ transport: "tcp", hostname: "::1", port: 80 }), "[::1]:80");
 * ```
 */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return formatHostPort(addr.hostname, addr.port);
  }
  if (addr.transport === "unix" || addr.transport === "unixpacket") return addr.path ?? "unix";
  return String(addr.transport);
}

/**
 * Removes the brackets from an IPv6 host given as `[::1]`, so it can be
 * passed to `Deno.listen` or `Deno.connect`.
 *
 * @param host A host as typed by a user.
 * @returns The host without surrounding brackets.
 *
 * @example
 * ```ts
 * import { stripBrackets } from "./net_addr.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stripBrackets("[::1]"), "::1");
 * ```
 */
export function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
