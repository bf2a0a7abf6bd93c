/**
 * The logger a server or a signal helper writes to: the four levels of
 * `console`, so `console` itself works, and so does the CLI's timestamped
 * `Logger` (lib/cli/log.ts) or a test's collecting object.
 *
 * Typing the option as this interface, rather than as the CLI's class, keeps
 * the network packages free of the CLI package: a copied server needs
 * nothing from lib/cli/.
 *
 * @module
 */

/**
 * The four log levels a library component writes at. `console` satisfies it.
 *
 * @example Pass console, or collect lines in a test
 * ```ts
 * import type { ServerLogger } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const fromConsole: ServerLogger = console;
 * const lines: string[] = [];
 * const collect = (line: string) => lines.push(line);
 * const collecting: ServerLogger = { debug: collect, info: collect, warn: collect, error: collect };
 * collecting.warn("accept failed");
 * assert.deepEqual(lines, ["accept failed"]);
 * assert.equal(typeof fromConsole.info, "function");
 * ```
 */
export type ServerLogger = Pick<Console, "debug" | "info" | "warn" | "error">;

/**
 * The default {@linkcode ServerLogger}: `info`, `warn` and `error` go to
 * stderr as `level  message` (stdout stays free for data and for the
 * `listening on` line), `debug` is dropped. Scripts pass the CLI's `Logger`
 * instead, for timestamps, colour and `--verbose`.
 *
 * @example
 * ```ts
 * import { STDERR_LOGGER } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof STDERR_LOGGER.warn, "function");
 * STDERR_LOGGER.debug("dropped: nothing is printed");
 * ```
 */
export const STDERR_LOGGER: ServerLogger = {
  debug: () => {},
  info: (...data: unknown[]) => console.error("info ", ...data),
  warn: (...data: unknown[]) => console.error("warn ", ...data),
  error: (...data: unknown[]) => console.error("error", ...data),
};
