/**
 * One message framed once for many connections: a plain frame for connections without
 * permessage-deflate, and a compressed one (RSV1) for those that negotiated it, compressed once
 * per window size rather than once per connection.
 *
 * @module
 */

import { deflateMessage, type PerMessageDeflate } from "./websocket_deflate.ts";
import { encodeFrame, OPCODE } from "./websocket_frame.ts";

const UTF8 = new TextEncoder();

/**
 * The server frames of one message for a broadcast. Pass each connection's
 * `perMessageDeflate` to {@linkcode BroadcastFrames.frameFor} and send the result with
 * `sendFrame`: the plain frame is encoded at most once, and the compressed one at most once per
 * window size (every connection of one server normally agrees the same one). Without context
 * takeover (the only mode this library speaks), a compressed message does not depend on the
 * connection it goes to, which is what makes this sharing valid.
 *
 * A message below the connection's `threshold`, or one that compression does not make smaller,
 * goes out as the plain frame, as `WebSocketConnection.send` would send it.
 *
 * @example Usage: one compression for every member that agreed to it
 * ```ts
 * import { BroadcastFrames } from "./broadcast_frames.ts";
 * import { negotiatePerMessageDeflate } from "./websocket_deflate.ts";
 * import assert from "node:assert/strict";
 *
 * const deflate = negotiatePerMessageDeflate("permessage-deflate")!.params;
 * const frames = new BroadcastFrames("chat line ".repeat(200));
 * const compressed = frames.frameFor(deflate);
 * assert.equal(compressed[0], 0xc1); // FIN, RSV1, text
 * assert.ok(compressed.length < 100);
 * assert.equal(frames.frameFor(deflate), compressed); // the same bytes, compressed once
 * assert.equal(frames.frameFor(undefined)[0], 0x81); // FIN, text: for a plain connection
 * assert.equal(frames.deflateCount, 1);
 * ```
 */
export class BroadcastFrames {
  #data: string | Uint8Array;
  #bytes: Uint8Array | undefined;
  #plain: Uint8Array | undefined;
  // Keyed by `${windowBits} ${level}`; usually one entry.
  #compressed = new Map<string, Uint8Array>();
  #deflateCount = 0;

  /**
   * Holds a message to frame on demand.
   *
   * @param data The message: a string for a text message, bytes for a binary one (not copied:
   * do not change them while frames are still being asked for).
   */
  constructor(data: string | Uint8Array) {
    this.#data = data;
  }

  /** How many times the message was compressed so far (for tests and statistics). */
  get deflateCount(): number {
    return this.#deflateCount;
  }

  /**
   * Returns the frame to send to a connection with these permessage-deflate parameters.
   *
   * @param deflate The connection's `perMessageDeflate`, or `undefined` when it has none.
   * @returns A complete unmasked frame; the same array for connections that agreed the same
   * parameters. Do not change it.
   */
  frameFor(deflate: PerMessageDeflate | undefined): Uint8Array {
    if (deflate === undefined || this.#below(deflate.threshold)) return this.#plainFrame();
    // Like WebSocketConnection.send: zlib cannot compress within 256 bytes (8 bits).
    const windowBits = Math.max(9, deflate.serverMaxWindowBits);
    const key = `${windowBits} ${deflate.level}`;
    let frame = this.#compressed.get(key);
    if (frame === undefined) {
      const bytes = this.#utf8();
      this.#deflateCount++;
      const compressed = deflateMessage(bytes, { level: deflate.level, windowBits });
      frame = compressed.length < bytes.length
        ? encodeFrame(this.#opcode(), compressed, { rsv: 4 })
        : this.#plainFrame();
      this.#compressed.set(key, frame);
    }
    return frame;
  }

  #opcode(): number {
    return typeof this.#data === "string" ? OPCODE.TEXT : OPCODE.BINARY;
  }

  #utf8(): Uint8Array {
    this.#bytes ??= typeof this.#data === "string" ? UTF8.encode(this.#data) : this.#data;
    return this.#bytes;
  }

  /** Whether the payload is shorter than `threshold` bytes. */
  #below(threshold: number): boolean {
    // Each UTF-16 unit is at most 3 bytes of UTF-8: a short string needs no encoding to tell.
    if (typeof this.#data === "string" && this.#data.length * 3 < threshold) return true;
    return this.#utf8().length < threshold;
  }

  #plainFrame(): Uint8Array {
    this.#plain ??= encodeFrame(this.#opcode(), this.#bytes ?? this.#data);
    return this.#plain;
  }
}
