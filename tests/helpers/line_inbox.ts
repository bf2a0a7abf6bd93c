/**
 * Test helper: received lines (or messages) that a test can wait for one
 * pattern at a time, bounded by a timeout. Shared by the chat test clients,
 * whatever transport fills it.
 *
 * @module
 */

/** The default bound on one wait, in ms. */
export const DEFAULT_WAIT_MS = 10_000;

/** Lines as they arrive; `waitFor` returns the next one matching a pattern. */
export class LineInbox {
  /** Every line received so far. */
  readonly lines: string[] = [];
  #next = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  #endName: string;

  /**
   * @param endName What the end of input is called in errors ("EOF", "closed").
   */
  constructor(endName = "EOF") {
    this.#endName = endName;
  }

  /** Adds a received line and wakes a waiting `waitFor`. */
  push(line: string): void {
    this.lines.push(line);
    this.#wake?.();
  }

  /** Marks the end of input: waits that cannot be satisfied now fail at once. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  /**
   * Returns the next line not yet returned, or `null` once input has ended.
   *
   * @throws {Error} After `timeoutMs` without a line.
   */
  async next(timeoutMs = DEFAULT_WAIT_MS): Promise<string | null> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#wake?.();
    }, timeoutMs);
    try {
      while (this.#next >= this.lines.length) {
        if (this.#ended) return null;
        if (timedOut) {
          throw new Error(`no line within ${timeoutMs} ms; got:\n${this.lines.join("\n")}`);
        }
        const { promise, resolve } = Promise.withResolvers<void>();
        this.#wake = resolve;
        await promise;
      }
      return this.lines[this.#next++]!;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Returns the next line (after those already returned) that matches
   * `pattern`; lines passed over on the way go to `skipped`.
   *
   * @throws {Error} At the end of input or after `timeoutMs` for one line, with the lines seen.
   */
  async waitFor(
    pattern: RegExp,
    skipped?: (line: string) => void,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<string> {
    for (;;) {
      const line = await this.next(timeoutMs);
      if (line === null) {
        throw new Error(
          `${this.#endName} before a line matching ${pattern}; got:\n${this.lines.join("\n")}`,
        );
      }
      if (pattern.test(line)) return line;
      skipped?.(line);
    }
  }

  /** Returns the lines not yet returned by `waitFor` (and marks them returned). */
  takeRest(): string[] {
    const rest = this.lines.slice(this.#next);
    this.#next = this.lines.length;
    return rest;
  }
}
