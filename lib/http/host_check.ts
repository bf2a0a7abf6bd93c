/**
 * The `Host` check that stops DNS rebinding: a request must name the server
 * itself, as with Vite's and webpack-dev-server's `allowedHosts`.
 *
 * DNS rebinding: a page on `http://rebind.test:8080` whose name the attacker
 * later points at 127.0.0.1 is same-origin with itself, so its requests carry
 * `Host: rebind.test:8080` and `Origin: http://rebind.test:8080`. Comparing
 * Origin with Host lets it in, because the attacker controls both. Checking
 * that Host is one of the server's own names keeps it out.
 *
 * @module
 */

import { isIP } from "node:net";
import { HttpError } from "./http_error.ts";

/** Options for {@linkcode isAllowedHost} and {@linkcode checkHost}. */
export interface HostCheckOptions {
  /**
   * More names the server answers to (`--allow-host NAME`). A name with a
   * leading dot, such as `.example.test`, also allows every subdomain.
   *
   * @default {[]}
   */
  allowedHosts?: readonly string[];
  /**
   * The command-line flag named in the 403's reason.
   *
   * @default {"--allow-host"}
   */
  flag?: string;
}

/** What a `Host` header names once parsed. */
export interface ParsedHost {
  /** Lower-case name or IP address, IPv6 without brackets, no trailing dot. */
  hostname: string;
  /** The port, or `null` when the header has none. */
  port: number | null;
}

/**
 * Parses a `Host` header (`name`, `name:port`, `1.2.3.4:port`, `[::1]:port`)
 * the way a browser writes it: lower case, IP addresses in their usual form.
 *
 * @param host The header's value.
 * @returns The parts, or `null` if it is not a valid host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHost } from "./host_check.ts";
 *
 * assert.deepEqual(parseHost("LocalHost.:8080"), { hostname: "localhost", port: 8080 });
 * assert.deepEqual(parseHost("[::1]"), { hostname: "::1", port: null });
 * assert.equal(parseHost("a b"), null);
 * ```
 */
export function parseHost(host: string): ParsedHost | null {
  // Only a host and a port: no user info, path, query or fragment.
  if (host === "" || /[\/\\?#@\s]/.test(host)) return null;
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return null;
  }
  let hostname = url.hostname;
  if (hostname.startsWith("[")) hostname = hostname.slice(1, -1);
  if (hostname.endsWith(".")) hostname = hostname.slice(0, -1);
  if (hostname === "") return null;
  // URL drops the default port 80; keep what the header said.
  const explicitPort = /:(\d+)$/.exec(host);
  return { hostname, port: explicitPort ? Number(explicitPort[1]) : null };
}

function isLoopback(ip: string): boolean {
  return ip === "::1" || /^127\./.test(ip);
}

function isWildcard(ip: string): boolean {
  return ip === "0.0.0.0" || ip === "::";
}

/** The bound address as a browser would write it in a Host header. */
function canonicalBound(hostname: string): string {
  return parseHost(isIP(hostname) === 6 ? `[${hostname}]` : hostname)?.hostname ?? hostname;
}

/**
 * Reports whether a `Host` header names this server: its bound address,
 * `localhost` (and `*.localhost`) when bound to loopback, any IP address when
 * bound to all interfaces (`0.0.0.0`, `::`; an address cannot be rebound), or
 * a name in `allowedHosts`. The port is not compared: behind a port forward
 * the client's port differs, and a rebinding page uses the right one anyway.
 *
 * @param host The `Host` header, or `null` if the request had none.
 * @param bound The address the server listens on, such as `server.addr`.
 * @param options Extra names.
 * @returns True if the request may be served.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAllowedHost } from "./host_check.ts";
 *
 * const bound = { hostname: "127.0.0.1" };
 * assert.equal(isAllowedHost("127.0.0.1:8080", bound), true);
 * assert.equal(isAllowedHost("localhost:8080", bound), true);
 * assert.equal(isAllowedHost("rebind.test:8080", bound), false);
 * assert.equal(isAllowedHost("rebind.test:8080", bound, { allowedHosts: ["rebind.test"] }), true);
 * ```
 */
export function isAllowedHost(
  host: string | null,
  bound: { hostname: string },
  options: HostCheckOptions = {},
): boolean {
  if (host === null) return false;
  const parsed = parseHost(host);
  if (parsed === null) return false;
  const name = parsed.hostname;
  const boundName = canonicalBound(bound.hostname);
  if (name === boundName) return true;
  const ip = isIP(name) !== 0;
  if (isWildcard(boundName) && ip) return true;
  if (
    (isLoopback(boundName) || isWildcard(boundName)) &&
    (name === "localhost" || name.endsWith(".localhost"))
  ) {
    return true;
  }
  for (const allowed of options.allowedHosts ?? []) {
    const entry = allowed.toLowerCase().replace(/\.$/, "");
    if (entry.startsWith(".") ? name === entry.slice(1) || name.endsWith(entry) : name === entry) {
      return true;
    }
  }
  return false;
}

/**
 * Throws the HTTP error to answer when {@linkcode isAllowedHost} says no:
 * 400 for a missing or malformed `Host`, 403 otherwise, with a reason that
 * names the flag that would allow it.
 *
 * @param host The `Host` header, or `null` if the request had none.
 * @param bound The address the server listens on.
 * @param options Extra names and the flag to name.
 * @throws {HttpError} 400 without a valid Host, 403 for a host that is not this server.
 *
 * @example DNS rebinding: Origin matches Host, and it is still refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./http_error.ts";
 * import { checkHost } from "./host_check.ts";
 *
 * const headers = new Headers({ Host: "rebind.test:8080", Origin: "http://rebind.test:8080" });
 * assert.throws(
 *   () => checkHost(headers.get("host"), { hostname: "127.0.0.1" }),
 *   (error) => error instanceof HttpError && error.status === 403 &&
 *     error.message.includes("--allow-host rebind.test"),
 * );
 * ```
 */
export function checkHost(
  host: string | null,
  bound: { hostname: string },
  options: HostCheckOptions = {},
): void {
  if (host === null) throw new HttpError(400, "Missing Host header");
  const parsed = parseHost(host);
  if (parsed === null) {
    throw new HttpError(400, `Malformed Host header: ${JSON.stringify(host.slice(0, 80))}`);
  }
  if (isAllowedHost(host, bound, options)) return;
  const flag = options.flag ?? "--allow-host";
  throw new HttpError(
    403,
    `Cannot serve host ${JSON.stringify(host.slice(0, 80))}: it does not name this server ` +
      `(start the server with ${flag} ${parsed.hostname} to allow it)`,
  );
}
