/**
 * The sending side of permessage-deflate for one connection: which messages
 * are compressed, with which window, into an RSV1 frame.
 *
 * @module
 */

import { deflateMessage, type PerMessageDeflate } from "./websocket_deflate.ts";
import { encodeFrame, type OPCODE } from "./websocket_frame.ts";

const UTF8 = new TextEncoder();

/** Encodes outgoing messages with the permessage-deflate parameters agreed in the handshake. */
export class MessageDeflater {
  #deflate: PerMessageDeflate;
  #deflateWindowBits: number;

  /**
   * @throws {RangeError} If `deflate` lets the peer keep its compression context between
   * messages (only no context takeover is supported).
   */
  constructor(deflate: PerMessageDeflate, role: "server" | "client") {
    const peerResets = role === "server"
      ? deflate.clientNoContextTakeover
      : deflate.serverNoContextTakeover;
    if (!peerResets) {
      throw new RangeError(
        "Cannot create WebSocket connection: permessage-deflate with context takeover by the " +
          "peer is not supported",
      );
    }
    // zlib cannot compress within 256 bytes: a window of 8 bits is only ever inflated.
    this.#deflateWindowBits = Math.max(
      9,
      role === "server" ? deflate.serverMaxWindowBits : deflate.clientMaxWindowBits,
    );
    this.#deflate = deflate;
  }

  /**
   * The frame for one message: compressed first (synchronously) when it has at least
   * `threshold` bytes, unless that does not make it smaller.
   */
  encode(
    opcode: typeof OPCODE.TEXT | typeof OPCODE.BINARY,
    data: string | Uint8Array,
    mask: boolean,
  ): Uint8Array {
    // A string's UTF-8 is at most 3 bytes per UTF-16 unit: shorter ones skip the encoding here.
    if (data.length * 3 >= this.#deflate.threshold) {
      const bytes = typeof data === "string" ? UTF8.encode(data) : data;
      if (bytes.length >= this.#deflate.threshold) {
        const compressed = deflateMessage(bytes, {
          level: this.#deflate.level,
          windowBits: this.#deflateWindowBits,
        });
        if (compressed.length < bytes.length) {
          return encodeFrame(opcode, compressed, { mask, rsv: 4 });
        }
      }
      return encodeFrame(opcode, bytes, { mask });
    }
    return encodeFrame(opcode, data, { mask });
  }
}
