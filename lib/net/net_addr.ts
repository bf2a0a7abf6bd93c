/**
 * Formatting of network addresses for logs and `listening on` lines, and
 * reading a `listening on` line back.
 *
 * Every server prints one line per port it listens on, on stdout, in one of
 * these forms (brackets for IPv6):
 *
 * ```text
 * listening on 127.0.0.1:7000         raw TCP or UDP
 * listening on tls://127.0.0.1:7000   TCP with TLS
 * listening on http://[::1]:8080/     HTTP and WebSocket (https:// with TLS)
 * ```
 *
 * Tests, benchmarks and the demo start a server with `--port 0` and read its
 * port back with {@linkcode parseListeningLine}.
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

/** What a `listening on` line says: see {@linkcode parseListeningLine}. */
export interface ListeningLine {
  /** `"tls"`, `"http"`, `"https"`, ...; absent for raw TCP or UDP (`listening on HOST:PORT`). */
  scheme?: string;
  /** The address, without brackets (`"::1"`), ready for `Deno.connect`. */
  hostname: string;
  /** The port. */
  port: number;
}

const LISTENING_PREFIX = "listening on ";
// scheme://  then  [ipv6]  or  host-without-colons  then  :port  then an optional /path
const LISTENING_ADDRESS =
  /^(?:([a-z][a-z0-9+.-]*):\/\/)?(?:\[([^\]\s]+)\]|([^\s\[\]:\/]+)):(\d{1,5})(?:\/\S*)?$/;

/**
 * Reads a server's `listening on ...` line: `listening on HOST:PORT`,
 * `listening on [::1]:PORT`, `listening on tls://HOST:PORT` or
 * `listening on http://HOST:PORT/` (any scheme, any path).
 *
 * @param line One line of a server's stdout, with or without its newline.
 * @returns The scheme, host and port, or `null` if the line is not a
 *   `listening on` line (a server may print other lines first).
 * @throws {SyntaxError} If the line starts with `listening on ` but the
 *   address after it cannot be read (a server and its reader disagree).
 *
 * @example
 * ```ts
 * import { parseListeningLine } from "./net_addr.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseListeningLine("listening on 127.0.0.1:7000"), {
 *   hostname: "127.0.0.1",
 *   port: 7000,
 * });
 * assert.deepEqual(parseListeningLine("listening on http://[::1]:8080/"), {
 *   scheme: "http",
 *   hostname: "::1",
 *   port: 8080,
 * });
 * assert.equal(parseListeningLine("loading certificates"), null);
 * assert.throws(() => parseListeningLine("listening on port 7000"), SyntaxError);
 * ```
 */
export function parseListeningLine(line: string): ListeningLine | null {
  const text = line.trim();
  if (!text.startsWith(LISTENING_PREFIX)) return null;
  const address = text.slice(LISTENING_PREFIX.length);
  const match = address.match(LISTENING_ADDRESS);
  const port = Number(match?.[4]);
  if (!match || port > 65_535) {
    throw new SyntaxError(
      `Cannot parse listening line: expected HOST:PORT, [IPV6]:PORT or SCHEME://HOST:PORT/, got "${address}"`,
    );
  }
  const hostname = match[2] ?? match[3]!;
  return match[1] === undefined ? { hostname, port } : { scheme: match[1], hostname, port };
}
