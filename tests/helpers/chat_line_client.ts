/**
 * Test helper: a raw TCP chat client, as `nc` would be: send lines, wait (bounded) for lines.
 *
 * @module
 */

import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { encodeLine, LineDecoder } from "../../lib/framing/line_decoder.ts";
import { closeQuietly } from "../../lib/io/close_quietly.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { DEFAULT_WAIT_MS, LineInbox } from "./line_inbox.ts";

/** A line-based TCP chat client whose received lines can be awaited one pattern at a time. */
export class ChatLineClient implements AsyncDisposable {
  readonly conn: Deno.Conn;
  readonly #inbox = new LineInbox("EOF");
  readonly #done: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#done = this.#pump().catch(() => {}).finally(() => this.#inbox.end());
  }

  /** Every line received so far. */
  get lines(): readonly string[] {
    return this.#inbox.lines;
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
      for (let line; (line = decoder.next()) !== null;) this.#inbox.push(line);
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
  waitFor(
    pattern: RegExp,
    skipped?: (line: string) => void,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<string> {
    return this.#inbox.waitFor(pattern, skipped, timeoutMs);
  }

  /** The next line not yet returned, or `null` once the server has closed. */
  next(timeoutMs = DEFAULT_WAIT_MS): Promise<string | null> {
    return this.#inbox.next(timeoutMs);
  }

  /** Sends bytes as they are (no newline added): partial lines, invalid UTF-8. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return writeAll(this.conn, bytes);
  }

  /** Waits until the server closes the connection; returns the lines not yet returned. */
  async rest(timeoutMs = DEFAULT_WAIT_MS): Promise<string[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.#done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.#inbox.takeRest();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    closeQuietly(this.conn);
    await this.#done;
  }
}
