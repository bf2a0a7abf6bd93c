/**
 * Errors shared by the stream decoders in this library.
 *
 * @module
 */

/**
 * Thrown when a frame (a line, a length-prefixed message, a WebSocket message)
 * is larger than the decoder's limit. The decoder throws before buffering more
 * than the limit, so a hostile peer cannot make it allocate without bound.
 *
 * @example Catch an oversized line
 * ```ts
 * import { FrameTooLargeError } from "./frame_errors.ts";
 * import { LineDecoder } from "./line_decoder.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new LineDecoder({ maxLineLength: 4 });
 * decoder.push(new TextEncoder().encode("too long\n"));
 * assert.throws(
 *   () => decoder.next(),
 *   (error) => error instanceof FrameTooLargeError && error.limit === 4,
 * );
 * ```
 */
export class FrameTooLargeError extends RangeError {
  /** The limit that was crossed, in bytes. */
  readonly limit: number;
  /** The size seen so far (or announced by a header), in bytes. */
  readonly size: number;

  /**
   * Creates the error.
   *
   * @param what What was being decoded, for the message ("line", "frame").
   * @param size The size seen or announced, in bytes.
   * @param limit The limit, in bytes.
   */
  constructor(what: string, size: number, limit: number) {
    super(`Cannot decode ${what}: length ${size} exceeds the limit of ${limit} bytes`);
    this.name = "FrameTooLargeError";
    this.limit = limit;
    this.size = size;
  }
}

/**
 * Thrown when a stream ends in the middle of a frame: the peer closed or reset
 * the connection before sending everything its header announced.
 *
 * @example
 * ```ts
 * import { IncompleteFrameError } from "./frame_errors.ts";
 * import { LengthPrefixedDecoder } from "./length_prefixed.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new LengthPrefixedDecoder();
 * decoder.push(new Uint8Array([0, 0, 0, 5, 1, 2]));
 * decoder.next(); // null: waiting for 3 more bytes
 * assert.throws(() => decoder.end(), IncompleteFrameError);
 * ```
 */
export class IncompleteFrameError extends Error {
  /** How many bytes of the frame had arrived. */
  readonly received: number;
  /** How many bytes the frame needed (header included), when known. */
  readonly expected: number | undefined;

  /**
   * Creates the error.
   *
   * @param what What was being decoded, for the message.
   * @param received Bytes of the frame that arrived.
   * @param expected Bytes the frame needed, when known.
   */
  constructor(what: string, received: number, expected?: number) {
    super(
      expected === undefined
        ? `Cannot decode ${what}: stream ended after ${received} bytes of an unfinished frame`
        : `Cannot decode ${what}: stream ended after ${received} of ${expected} bytes`,
    );
    this.name = "IncompleteFrameError";
    this.received = received;
    this.expected = expected;
  }
}
