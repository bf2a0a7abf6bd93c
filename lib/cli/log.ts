/**
 * A small logger: timestamped lines on stderr, colours only on a terminal
 * and never when `NO_COLOR` is set.
 *
 * Logs go to stderr so stdout stays free for data (the echo client's pipe
 * mode, a server's `listening on` line that scripts wait for).
 *
 * @module
 */

/** How important a log line is. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /**
   * The lowest level printed: `"warn"` with `--quiet`, `"debug"` with `-v`/`--verbose`
   * (`logLevel()` in `cli.ts` picks it from the flags).
   *
   * @default {"info"}
   */
  level?: LogLevel;
  /**
   * Colour the level names. Defaults to on only when stderr is a terminal
   * and `NO_COLOR` is not set.
   *
   * @default {!Deno.noColor && Deno.stderr.isTerminal()}
   */
  color?: boolean;
  /**
   * Where lines go; tests pass a function that collects them.
   *
   * @default {console.error}
   */
  write?: (line: string) => void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const COLORS: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

/**
 * Writes `2026-11-22T21:30:00.123Z info  message` lines.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const log = new Logger({ level: "warn", write: (line) => lines.push(line) });
 * log.info("not shown");
 * log.warn("disk almost full");
 * assert.equal(lines.length, 1);
 * assert.match(lines[0]!, /warn  disk almost full$/);
 * ```
 */
export class Logger {
  #min: number;
  #color: boolean;
  #write: (line: string) => void;

  /**
   * Creates a logger.
   *
   * @param options Level, colour and destination.
   */
  constructor(options: LoggerOptions = {}) {
    this.#min = LEVELS[options.level ?? "info"];
    this.#color = options.color ?? (!Deno.noColor && Deno.stderr.isTerminal());
    this.#write = options.write ?? ((line) => console.error(line));
  }

  /** True when lines of `level` are printed; skip building costly messages otherwise. */
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#min;
  }

  /** Logs details: each connection, retries (shown with `-v`/`--verbose`). */
  debug(message: string): void {
    this.#log("debug", message);
  }

  /** Logs normal events: connections, shutdown. */
  info(message: string): void {
    this.#log("info", message);
  }

  /** Logs something wrong that the program survives. */
  warn(message: string): void {
    this.#log("warn", message);
  }

  /** Logs a failure. */
  error(message: string): void {
    this.#log("error", message);
  }

  #log(level: LogLevel, message: string): void {
    if (LEVELS[level] < this.#min) return;
    const name = level.padEnd(5);
    const tag = this.#color ? `${COLORS[level]}${name}\x1b[0m` : name;
    this.#write(`${new Date().toISOString()} ${tag} ${message}`);
  }
}
