/**
 * The client side of the chat's line protocol: the lines a chat server sends, sanitised for a
 * terminal, with a clear error when the peer turns out to speak TLS.
 *
 * @module
 */

import { ChunkReader, type Reader } from "../io/chunk_reader.ts";
import { FrameTooLargeError } from "../framing/frame_errors.ts";
import { LineDecoder } from "../framing/line_decoder.ts";
import { looksLikeTlsAlert } from "../tcp/looks_like_tls_alert.ts";
import { sanitizeText } from "./sanitize_text.ts";

/** The server answered our plain text with a TLS alert record: it speaks TLS. */
export class TlsAnswerError extends Error {
  /**
   * Creates the error.
   *
   * @param message What happened.
   */
  constructor(message = "Cannot read chat lines: the server answered with a TLS alert") {
    super(message);
    this.name = "TlsAnswerError";
  }
}

/** Options for {@linkcode readChatLines}. */
export interface ReadChatLinesOptions {
  /**
   * Longest line kept, in bytes; a longer one is replaced by a note saying its size (the chat
   * server sends far shorter ones).
   *
   * @default {65536}
   */
  maxLineLength?: number;
}

/**
 * Yields every line the peer sends, sanitised with {@linkcode sanitizeText}, until it closes.
 * A line over `maxLineLength` becomes `(a line of N bytes from the server was dropped)`.
 *
 * @param reader The connection (anything with `read` like `Deno.Conn`).
 * @param options The line limit.
 * @returns The lines, without their line endings.
 * @throws {TlsAnswerError} If the first bytes are a TLS alert record (a TLS server answering
 *   plain text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readChatLines } from "./read_chat_lines.ts";
 *
 * const bytes = new TextEncoder().encode("*** Welcome\r\n<bob> hi\x1b[2J\n");
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array): Promise<number | null> {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * assert.deepEqual(await Array.fromAsync(readChatLines(reader)), ["*** Welcome", "<bob> hi"]);
 * ```
 */
export async function* readChatLines(
  reader: Reader,
  options: ReadChatLinesOptions = {},
): AsyncGenerator<string> {
  const chunks = new ChunkReader(reader);
  const decoder = new LineDecoder({ maxLineLength: options.maxLineLength ?? 65_536 });
  for (let chunk, first = true; (chunk = await chunks.read()) !== null; first = false) {
    if (first && looksLikeTlsAlert(chunk)) throw new TlsAnswerError();
    decoder.push(chunk);
    for (;;) {
      let line: string | null;
      try {
        line = decoder.next();
      } catch (error) {
        if (!(error instanceof FrameTooLargeError)) throw error;
        line = `(a line of ${error.size} bytes from the server was dropped)`;
      }
      if (line === null) break;
      yield sanitizeText(line);
    }
  }
  decoder.end();
  for (let line; (line = decoder.next()) !== null;) yield sanitizeText(line);
}
