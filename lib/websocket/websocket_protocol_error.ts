/**
 * The error raised when a WebSocket peer breaks RFC 6455 or a configured limit.
 *
 * @module
 */

/** Stable identifiers of WebSocket protocol errors, for tests and logs. */
export type WebSocketErrorCode =
  | "ERR_WS_RESERVED_BITS"
  | "ERR_WS_UNKNOWN_OPCODE"
  | "ERR_WS_UNMASKED_FRAME"
  | "ERR_WS_MASKED_FRAME"
  | "ERR_WS_INVALID_LENGTH"
  | "ERR_WS_CONTROL_FRAME_TOO_BIG"
  | "ERR_WS_FRAGMENTED_CONTROL_FRAME"
  | "ERR_WS_UNEXPECTED_CONTINUATION"
  | "ERR_WS_EXPECTED_CONTINUATION"
  | "ERR_WS_MESSAGE_TOO_BIG"
  | "ERR_WS_TOO_MANY_FRAGMENTS"
  | "ERR_WS_INVALID_UTF8"
  | "ERR_WS_INVALID_COMPRESSED_DATA"
  | "ERR_WS_INVALID_CLOSE_PAYLOAD"
  | "ERR_WS_INVALID_CLOSE_CODE";

/**
 * A violation of the WebSocket protocol by the peer. The connection must be failed: send a Close
 * frame with {@linkcode WebSocketProtocolError.closeCode} and the message as its reason, then
 * close the TCP connection.
 *
 * @example Usage
 * ```ts
 * import { WebSocketProtocolError } from "./websocket_protocol_error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new WebSocketProtocolError("ERR_WS_UNMASKED_FRAME", 1002, "client frame is not masked");
 * assert.equal(error.closeCode, 1002);
 * assert.equal(error.message, "Cannot decode frame: client frame is not masked");
 * ```
 */
export class WebSocketProtocolError extends Error {
  /** A stable identifier of the violation. */
  readonly code: WebSocketErrorCode;
  /** The close status to send to the peer: 1002, 1007 or 1009. */
  readonly closeCode: number;

  /**
   * Creates a protocol error.
   *
   * @param code A stable identifier of the violation.
   * @param closeCode The close status to send to the peer.
   * @param detail What was wrong, appended to "Cannot decode frame: ".
   */
  constructor(code: WebSocketErrorCode, closeCode: number, detail: string) {
    super(`Cannot decode frame: ${detail}`);
    this.name = "WebSocketProtocolError";
    this.code = code;
    this.closeCode = closeCode;
  }
}
