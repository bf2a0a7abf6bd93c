/**
 * One line of chat output, encoded once however many members receive it.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * A line of text for chat members, without its newline. Byte transports use
 * {@linkcode ChatLine.bytes} (UTF-8 plus `\n`), which is encoded on first use
 * and then shared: a message broadcast to 100 members is encoded once, not
 * 100 times. Message transports (WebSocket) use {@linkcode ChatLine.text}.
 *
 * @example
 * ```ts
 * import { ChatLine } from "./chat_line.ts";
 * import assert from "node:assert/strict";
 *
 * const line = new ChatLine("*** alice joined #lobby");
 * assert.equal(line.bytes.length, line.text.length + 1);
 * assert.equal(line.bytes, line.bytes); // encoded once, the same array each time
 * ```
 */
export class ChatLine {
  /** The text, without a newline. */
  readonly text: string;
  #bytes: Uint8Array | undefined;

  /**
   * Wraps `text`.
   *
   * @param text One line of already sanitised text.
   * @throws {TypeError} If `text` contains a newline or carriage return.
   */
  constructor(text: string) {
    if (text.includes("\n") || text.includes("\r")) {
      throw new TypeError("Cannot create chat line: text contains a line break");
    }
    this.text = text;
  }

  /** The UTF-8 encoding of the text followed by `\n`, shared by every receiver. */
  get bytes(): Uint8Array {
    this.#bytes ??= encoder.encode(this.text + "\n");
    return this.#bytes;
  }
}
