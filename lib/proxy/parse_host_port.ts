/**
 * Parsing the `--to HOST:PORT` of a proxy.
 *
 * @module
 */

/** A host and port, the host without brackets. */
export interface HostPort {
  /** The host name or address (IPv6 without brackets). */
  hostname: string;
  /** The port, 1 to 65535. */
  port: number;
}

/**
 * Parses `HOST:PORT`, with brackets around an IPv6 host (`[::1]:7000`).
 *
 * @param text What the user typed.
 * @returns The host (brackets removed) and port.
 * @throws {SyntaxError} If `text` is not `HOST:PORT` with a port from 1 to 65535.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHostPort } from "./parse_host_port.ts";
 *
 * assert.deepEqual(parseHostPort("127.0.0.1:7000"), { hostname: "127.0.0.1", port: 7000 });
 * assert.deepEqual(parseHostPort("[::1]:7000"), { hostname: "::1", port: 7000 });
 * assert.throws(() => parseHostPort("::1:7000"), SyntaxError);
 * ```
 */
export function parseHostPort(text: string): HostPort {
  const match = text.match(/^(?:\[([0-9a-fA-F:.]+)\]|([^\s:\[\]]+)):(\d{1,5})$/);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    throw new SyntaxError(
      `Cannot parse address: '${text}' is not HOST:PORT (IPv6 as [::1]:PORT, port 1 to 65535)`,
    );
  }
  return { hostname: match[1] ?? match[2]!, port };
}
