/**
 * Test helper: a raw TCP chat client, as `nc` would be: send lines, wait (bounded) for lines.
 *
 * @module
 */

import { ChunkReader } from "../../lib/chunk_reader.ts";
import { encodeLine, LineDecoder } from "../../lib/line_decoder.ts";
import { closeQuietly } from "../../lib/serve_tcp.ts";
import { writeAll } from "../../lib/write_all.ts";

const DEFAULT_TIMEOUT_MS = 10_000;

/** A line-based TCP chat client whose received lines can be awaited one pattern at a time. */
export class ChatLineClient implements AsyncDisposable {
  readonly conn: Deno.Conn;
  /** Every line received so far. */
  readonly lines: string[] = [];
  #next = 0;
  #wake: (() => void) | undefined;
  #eof = false;
  readonly #done: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#done = this.#pump().catch(() => {}).finally(() => {
      this.#eof = true;
      this.#wake?.();
    });
  }

  /** Connects to 127.0.0.1:`port`; with `nick`, registers and waits until it joined its room. */
  static async connect(port: number, nick?: string): Promise<ChatLineClient> {
    const client = new ChatLineClient(await Deno.connect({ hostname: "127.0.0.1", port }));
    if (nick !== undefined) {
      await client.send(nick);
      await client.waitFor(new RegExp(`\\*\\*\\* ${nick} joined #`));
    }
    return client;
  }

  async #pump(): Promise<void> {
    const reader = new ChunkReader(this.conn);
    const decoder = new LineDecoder({ maxLineLength: 1 << 20 });
    for (let chunk; (chunk = await reader.read()) !== null;) {
      decoder.push(chunk);
      for (let line; (line = decoder.next()) !== null;) this.lines.push(line);
      this.#wake?.();
    }
  }

  /** Sends one line (a newline is added). */
  send(text: string): Promise<void> {
    return writeAll(this.conn, encodeLine(text));
  }

  /**
   * Returns the next line (after those already returned) that matches `pattern`.
   *
   * @throws {Error} At EOF or after `timeoutMs`, with the lines seen.
   */
  async waitFor(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#wake?.();
    }, timeoutMs);
    try {
      for (;;) {
        while (this.#next < this.lines.length) {
          const line = this.lines[this.#next++]!;
          if (pattern.test(line)) return line;
        }
        if (this.#eof || timedOut) {
          throw new Error(
            `${this.#eof ? "EOF" : `${timeoutMs} ms`} before a line matching ${pattern}; got:\n` +
              this.lines.join("\n"),
          );
        }
        const { promise, resolve } = Promise.withResolvers<void>();
        this.#wake = resolve;
        await promise;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until the server closes the connection; returns the lines not yet returned. */
  async rest(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.#done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const rest = this.lines.slice(this.#next);
    this.#next = this.lines.length;
    return rest;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    closeQuietly(this.conn);
    await this.#done;
  }
}
