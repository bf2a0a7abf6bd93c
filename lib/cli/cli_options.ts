/**
 * The flags most scripts share, as option specs to spread into a
 * `parseCli` spec: `--host`/`--port` for a server (one host or several) or a
 * client, and the log level that `--quiet`/`--verbose` ask for.
 *
 * @module
 */

import type { LogLevel } from "./log.ts";

/**
 * The log level the common flags ask for: `debug` with `--verbose`, `warn`
 * with `--quiet` (when both are given, `--verbose` wins), `info` otherwise.
 *
 * @param values The parsed values, or any object with `quiet` and `verbose`.
 * @returns The level for {@linkcode Logger}'s `level` option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logLevel } from "./cli_options.ts";
 *
 * assert.equal(logLevel({ quiet: false, verbose: true }), "debug");
 * assert.equal(logLevel({ quiet: true, verbose: false }), "warn");
 * assert.equal(logLevel({ quiet: false, verbose: false }), "info");
 * ```
 */
export function logLevel(values: { quiet: boolean; verbose: boolean }): LogLevel {
  return values.verbose ? "debug" : values.quiet ? "warn" : "info";
}

/**
 * The `--host` and `--port` flags of a server: bind `127.0.0.1` unless told
 * otherwise, and accept port 0 (any free port). Spread into a spec's options.
 *
 * @param defaultPort The server's usual port.
 * @param hostDescription The `--host` line of `--help`, for servers with a warning to give.
 * @returns The two option specs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCli } from "./cli.ts";
 * import { listenOptions } from "./cli_options.ts";
 *
 * const spec = { name: "x.ts", summary: "X.", usage: ["deno run x.ts"], options: listenOptions(7000) };
 * const { values } = parseCli(["-p", "0"], spec);
 * assert.equal(values.host, "127.0.0.1");
 * assert.equal(values.port, 0);
 * ```
 */
export function listenOptions<const P extends number>(
  defaultPort: P,
  hostDescription = "Address to bind (0.0.0.0 or :: to expose it)",
) {
  return {
    host: { type: "string", default: "127.0.0.1", valueName: "HOST", description: hostDescription },
    port: portOption(defaultPort),
  } as const;
}

/**
 * Like {@linkcode listenOptions}, but `--host` may be given several times,
 * one listener per address (`--host 127.0.0.1 --host ::1` for both
 * loopbacks); pair it with `serveHosts` from `lib/net/serve_hosts.ts`.
 *
 * @param defaultPort The server's usual port.
 * @param hostDescription The `--host` line of `--help`.
 * @returns The two option specs; `values.host` is an array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCli } from "./cli.ts";
 * import { listenHostsOptions } from "./cli_options.ts";
 *
 * const spec = { name: "x.ts", summary: "X.", usage: ["deno run x.ts"], options: listenHostsOptions(7000) };
 * assert.deepEqual(parseCli([], spec).values.host, ["127.0.0.1"]);
 * assert.deepEqual(parseCli(["--host", "127.0.0.1", "--host", "::1"], spec).values.host, [
 *   "127.0.0.1",
 *   "::1",
 * ]);
 * ```
 */
export function listenHostsOptions<const P extends number>(
  defaultPort: P,
  hostDescription = "Address to bind; repeat for several (0.0.0.0 or :: to expose it)",
) {
  return {
    host: {
      type: "string",
      multiple: true,
      default: ["127.0.0.1"],
      valueName: "HOST",
      description: hostDescription,
    },
    port: portOption(defaultPort),
  } as const;
}

function portOption<const P extends number>(defaultPort: P) {
  return {
    type: "integer",
    short: "p",
    default: defaultPort,
    min: 0,
    max: 65535,
    description: "Port to listen on (0 = any free port)",
  } as const;
}

/**
 * The `--host` and `--port` flags of a client. Spread into a spec's options.
 *
 * @param defaultPort The server's usual port.
 * @param peer What the client talks to, for `--help` ("Server", "Receiver").
 * @returns The two option specs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectOptions } from "./cli_options.ts";
 *
 * assert.equal(connectOptions(7000).port.default, 7000);
 * assert.equal(connectOptions(7000).port.short, "p");
 * ```
 */
export function connectOptions<const P extends number>(defaultPort: P, peer = "Server") {
  return {
    host: {
      type: "string",
      default: "127.0.0.1",
      valueName: "HOST",
      description: `${peer} address`,
    },
    port: {
      type: "integer",
      short: "p",
      default: defaultPort,
      min: 1,
      max: 65535,
      description: `${peer} port`,
    },
  } as const;
}
