/**
 * Where a Redis server listens: `redis://HOST:PORT` or `unix:///path/to/redis.sock`.
 *
 * @module
 */

/** A Redis server's address: a TCP host and port, or a Unix socket path. */
export type RedisAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** The port Redis listens on unless told otherwise. */
export const DEFAULT_REDIS_PORT = 6379;

/**
 * Parses a Redis URL: `redis://HOST[:PORT]` (port 6379 by default; brackets
 * for IPv6) or `unix:///absolute/path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "./redis_address.ts";
 *
 * assert.deepEqual(parseRedisUrl("redis://127.0.0.1:6380"), {
 *   transport: "tcp",
 *   hostname: "127.0.0.1",
 *   port: 6380,
 * });
 * assert.deepEqual(parseRedisUrl("redis://[::1]"), { transport: "tcp", hostname: "::1", port: 6379 });
 * assert.deepEqual(parseRedisUrl("unix:///tmp/redis.sock"), {
 *   transport: "unix",
 *   path: "/tmp/redis.sock",
 * });
 * assert.throws(() => parseRedisUrl("http://x"), SyntaxError);
 * ```
 *
 * @param url The URL.
 * @returns The address.
 * @throws {SyntaxError} If the URL is not a `redis:` or `unix:` URL with a host or a path.
 */
export function parseRedisUrl(url: string): RedisAddress {
  if (!URL.canParse(url)) {
    throw new SyntaxError(
      `Cannot parse Redis URL "${url}": expected redis://HOST:PORT or unix:///PATH`,
    );
  }
  const parsed = new URL(url);
  if (parsed.protocol === "unix:") {
    const path = decodeURIComponent(parsed.pathname);
    if (parsed.host !== "" || !path.startsWith("/") || path === "/") {
      throw new SyntaxError(`Cannot parse Redis URL "${url}": unix:///PATH needs an absolute path`);
    }
    return { transport: "unix", path };
  }
  if (parsed.protocol !== "redis:" || parsed.hostname === "") {
    throw new SyntaxError(
      `Cannot parse Redis URL "${url}": expected redis://HOST:PORT or unix:///PATH`,
    );
  }
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port === "" ? DEFAULT_REDIS_PORT : Number(parsed.port);
  return { transport: "tcp", hostname, port };
}

/**
 * Formats an address the way {@linkcode parseRedisUrl} reads it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRedisAddress } from "./redis_address.ts";
 *
 * assert.equal(formatRedisAddress({ transport: "tcp", hostname: "::1", port: 6379 }), "redis://[::1]:6379");
 * assert.equal(formatRedisAddress({ transport: "unix", path: "/tmp/r.sock" }), "unix:///tmp/r.sock");
 * ```
 *
 * @param address The address.
 * @returns Its URL.
 */
export function formatRedisAddress(address: RedisAddress): string {
  if (address.transport === "unix") return `unix://${address.path}`;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `redis://${host}:${address.port}`;
}
