/**
 * Framing: turning a byte stream into messages and back, with no sockets.
 *
 * TCP delivers bytes, not messages: one `read()` can hold half a message or
 * three of them. A decoder here takes whatever chunks arrive (`push`) and
 * hands out whole messages (`next`), buffering at most a documented limit.
 *
 * - {@linkcode LineDecoder} / {@linkcode encodeLine} (line_decoder.ts): text
 *   lines ending in `\n` or `\r\n`, the format of `nc`, telnet and the chat.
 *   Use it when a human types the protocol.
 * - {@linkcode LengthPrefixedDecoder} / {@linkcode encodeLengthPrefixed}
 *   (length_prefixed.ts): a 4-byte big-endian length, then that many bytes.
 *   Use it for binary payloads, or to refuse an oversized message before it
 *   arrives.
 * - The `...Stream` variants wrap each decoder as a `TransformStream` for
 *   `pipeThrough`.
 * - {@linkcode FrameTooLargeError} and {@linkcode IncompleteFrameError}
 *   (frame_errors.ts): what both decoders throw when a peer breaks the limit
 *   or stops mid-message.
 *
 * @example Two lines in one chunk, then one split across chunks
 * ```ts
 * import { encodeLine, LineDecoder } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new LineDecoder();
 * decoder.push(new TextEncoder().encode("a\r\nb\nha"));
 * assert.equal(decoder.next(), "a");
 * assert.equal(decoder.next(), "b");
 * assert.equal(decoder.next(), null); // "ha" waits for its end
 * decoder.push(encodeLine("lf"));
 * assert.equal(decoder.next(), "half");
 * ```
 *
 * @module
 */
export * from "./frame_errors.ts";
export * from "./length_prefixed.ts";
export * from "./line_decoder.ts";
