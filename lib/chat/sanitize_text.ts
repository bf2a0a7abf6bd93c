/**
 * Making untrusted text safe to show on someone else's terminal.
 *
 * A chat server relays what one person typed to everyone else's terminal.
 * Terminals obey escape sequences inside that text: `ESC [ 2 J` clears the
 * screen, `ESC ] 0 ; … BEL` sets the window title, `ESC ] 52 ; …` can write
 * the clipboard, and a right-to-left override (U+202E) reverses what follows.
 * Relaying text raw hands every member's terminal to the sender.
 *
 * ```ts ignore
 * // Bad: relays escape sequences to every member's terminal
 * for (const member of room) member.send(`<${nick}> ${line}`);
 *
 * // Good: strip what a terminal would obey before relaying
 * const text = sanitizeText(line);
 * ```
 *
 * @module
 */

// What a terminal would act on, tried in this order at each position:
/**
 * CSI: ESC [ or the 8-bit CSI (U+009B), parameters, intermediates, a final byte
 * (colours, cursor moves, screen clears).
 */
const CSI = String.raw`(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]`;
/**
 * Strings: OSC, DCS, SOS, PM, APC (ESC ] P X ^ _ or their 8-bit forms) up to BEL or ST
 * (ESC \ or U+009C). An unterminated one runs to the end of the text, as it would swallow
 * the rest of the line on a terminal.
 */
const STRING = String.raw`(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)`;
/** Any other escape: ESC, intermediates, a final byte (ESC c resets the terminal). */
const ESCAPE = String.raw`\x1b[\x20-\x2f]*[\x30-\x7e]`;
/**
 * Single characters: C0 controls, DEL, C1 controls, and the bidi embeddings, overrides and
 * isolates (U+202A-U+202E, U+2066-U+2069) that reorder the text after them. Tab is one of
 * them and becomes a space.
 */
const SINGLE = String.raw`[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]`;

const UNSAFE = new RegExp(`${CSI}|${STRING}|${ESCAPE}|${SINGLE}`, "g");
/** Every unsafe sequence starts with one of the SINGLE characters, so this finds them all. */
const ANY_UNSAFE = new RegExp(SINGLE);

/**
 * Removes terminal control characters, ANSI/OSC escape sequences, C1 controls
 * and bidi overrides from `text`; tabs become spaces, lone surrogates become
 * U+FFFD, and every other character (all of UTF-8, emoji, right-to-left
 * scripts) is kept.
 *
 * Text without anything to remove is returned as is after one regular
 * expression test, so the common case costs little.
 *
 * Invalid UTF-8 is not this function's job: decode bytes with a non-fatal
 * `TextDecoder` (as `LineDecoder` does), which turns each bad sequence into
 * U+FFFD before the text gets here.
 *
 * @param text Untrusted text, typically one line.
 * @returns The text with everything a terminal would act on removed.
 *
 * @example
 * ```ts
 * import { sanitizeText } from "./sanitize_text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizeText("\x1b[2Jhi\x1b]0;pwned\x07!"), "hi!");
 * assert.equal(sanitizeText("caf\u00e9 \u202edlrow"), "caf\u00e9 dlrow");
 * assert.equal(sanitizeText("a\tb"), "a b");
 * ```
 */
export function sanitizeText(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  if (!ANY_UNSAFE.test(wellFormed)) return wellFormed;
  return wellFormed.replace(UNSAFE, (match) => (match === "\t" ? " " : ""));
}
