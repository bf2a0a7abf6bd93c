/**
 * A one-line progress bar for long transfers: bytes, percent, rate and ETA,
 * redrawn in place on a terminal and silent elsewhere (a log file or a pipe
 * wants one final line, not hundreds of carriage returns).
 *
 * @module
 */

import { formatByteRate, formatBytes } from "./format_bytes.ts";

/** Options for {@linkcode ProgressBar}. */
export interface ProgressBarOptions {
  /**
   * Text before the bar, such as the file name.
   *
   * @default {""}
   */
  label?: string;
  /**
   * Bytes already done before this run (a resumed transfer): they count
   * toward the percentage but not toward the rate.
   *
   * @default {0}
   */
  startAt?: number;
  /**
   * Draw at all. Off, `update()` and `finish()` write nothing.
   *
   * @default {Deno.stderr.isTerminal()}
   */
  terminal?: boolean;
  /**
   * Where the text goes.
   *
   * @default {writes to stderr}
   */
  write?: (text: string) => void;
  /**
   * Width of the line, in columns.
   *
   * @default {the terminal's width, or 80}
   */
  columns?: number;
  /**
   * The shortest time between two redraws, in ms: redrawing on every 64 KiB
   * chunk would cost more than the transfer.
   *
   * @default {100}
   */
  interval?: number;
  /**
   * The clock, in ms (tests pass a fake one).
   *
   * @default {performance.now}
   */
  now?: () => number;
}

/** One moment of a transfer, for {@linkcode formatProgress}. */
export interface ProgressState {
  /** Bytes done, including `startAt`. */
  done: number;
  /** Bytes in all. */
  total: number;
  /** Bytes that were done before this run started. */
  startAt: number;
  /** Time since this run started, in ms. */
  elapsedMs: number;
  /** Text before the bar. */
  label: string;
}

/**
 * Formats one progress line, fitted to `columns`:
 * `x.bin [#######.......]  48.0%  96.0 MiB/200.0 MiB  90.7 MiB/s  ETA 0:01`
 * (the rate in the same binary units as the sizes).
 *
 * @param state Where the transfer is.
 * @param columns The line width.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProgress } from "./progress_bar.ts";
 *
 * const line = formatProgress(
 *   { done: 50 * 1024 ** 2, total: 100 * 1024 ** 2, startAt: 0, elapsedMs: 1000, label: "x.bin" },
 *   80,
 * );
 * assert.ok(line.includes(" 50.0%") && line.includes("50.0 MiB/s") && line.includes("ETA 0:01"));
 * assert.ok(line.length <= 80);
 * ```
 */
export function formatProgress(state: ProgressState, columns: number): string {
  const { done, total, startAt, elapsedMs, label } = state;
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const seconds = elapsedMs / 1000;
  const moved = done - startAt;
  const rate = seconds > 0 ? moved / seconds : 0;
  const eta = done >= total ? "0:00" : rate > 0 ? formatDuration((total - done) / rate) : "-:--";
  // Fixed-width fields keep the bar from jumping as the numbers grow.
  const of = formatBytes(total);
  const tail = `${(fraction * 100).toFixed(1).padStart(5)}%  ${
    formatBytes(done).padStart(of.length)
  }/${of}  ${formatByteRate(moved, seconds).padStart(12)}  ETA ${eta}`;
  const head = label === "" ? "" : `${label} `;
  const barWidth = Math.min(40, columns - head.length - tail.length - 4);
  if (barWidth < 5) return `${head}${tail}`.slice(0, columns);
  const filled = Math.round(fraction * barWidth);
  return `${head}[${"#".repeat(filled)}${".".repeat(barWidth - filled)}]  ${tail}`;
}

/**
 * Formats seconds as `m:ss`, or `h:mm:ss` from an hour on.
 *
 * @param seconds A duration.
 * @returns The text.
 */
function formatDuration(seconds: number): string {
  const total = Math.ceil(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * A progress bar for a transfer of known size, redrawn in place with `\r`.
 *
 * @example A bar that writes into an array (as on a terminal)
 * ```ts
 * import { ProgressBar } from "./progress_bar.ts";
 * import assert from "node:assert/strict";
 *
 * let clock = 0;
 * const out: string[] = [];
 * const bar = new ProgressBar(1000, {
 *   label: "x.bin",
 *   terminal: true,
 *   write: (text) => out.push(text),
 *   now: () => clock,
 * });
 * clock = 500;
 * bar.update(500); // drawn
 * bar.update(501); // skipped: less than `interval` since the last draw
 * clock = 1000;
 * bar.finish(1000); // last draw and a newline
 * assert.equal(out.length, 2);
 * assert.match(out[1]!, /100\.0%.*\n$/);
 * ```
 */
export class ProgressBar {
  #total: number;
  #label: string;
  #startAt: number;
  #terminal: boolean;
  #write: (text: string) => void;
  #columns: number;
  #interval: number;
  #now: () => number;
  #started: number;
  #lastDraw = -Infinity;
  #finished = false;

  /**
   * Creates a bar; nothing is drawn until the first `update()`.
   *
   * @param total The transfer's size, in bytes.
   * @param options Label, output and timing.
   */
  constructor(total: number, options: ProgressBarOptions = {}) {
    this.#total = total;
    this.#label = options.label ?? "";
    this.#startAt = options.startAt ?? 0;
    this.#terminal = options.terminal ?? Deno.stderr.isTerminal();
    this.#write = options.write ?? writeStderr;
    this.#columns = options.columns ?? terminalColumns();
    this.#interval = options.interval ?? 100;
    this.#now = options.now ?? (() => performance.now());
    this.#started = this.#now();
  }

  /**
   * Reports progress; redraws if `interval` has passed since the last draw.
   *
   * @param done Bytes done so far, including `startAt`.
   */
  update(done: number): void {
    if (!this.#terminal || this.#finished) return;
    const now = this.#now();
    if (now - this.#lastDraw < this.#interval) return;
    this.#lastDraw = now;
    this.#draw(done, now);
  }

  /**
   * Draws the last state and ends the line (on a terminal), or clears the
   * bar with `clear`. Later updates are ignored.
   *
   * @param done Bytes done at the end.
   * @param clear Erase the bar instead of leaving it on screen.
   */
  finish(done: number, clear = false): void {
    if (!this.#terminal || this.#finished) return;
    this.#finished = true;
    if (clear) {
      this.#write("\r\x1b[K");
      return;
    }
    this.#write(`${this.#render(done, this.#now())}\n`);
  }

  #draw(done: number, now: number): void {
    this.#write(this.#render(done, now));
  }

  #render(done: number, now: number): string {
    const line = formatProgress({
      done,
      total: this.#total,
      startAt: this.#startAt,
      elapsedMs: now - this.#started,
      label: this.#label,
    }, this.#columns);
    // \r returns to the start of the line; \x1b[K erases what a longer
    // previous line left behind.
    return `\r${line}\x1b[K`;
  }
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

const ENCODER = new TextEncoder();

function writeStderr(text: string): void {
  const bytes = ENCODER.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}
