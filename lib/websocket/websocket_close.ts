/**
 * WebSocket close status codes (RFC 6455 §7.4) and the Close frame payload.
 *
 * @module
 */

import { WebSocketProtocolError } from "./websocket_protocol_error.ts";

/** Close status codes used by this library (RFC 6455 §7.4.1 and the IANA registry). */
export const CLOSE_CODE = {
  /** The purpose of the connection is fulfilled. */
  NORMAL: 1000,
  /** The endpoint is going away: server shutdown, idle timeout, page navigation. */
  GOING_AWAY: 1001,
  /** The peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** The endpoint cannot accept this kind of data. */
  UNSUPPORTED_DATA: 1003,
  /** Never sent: stands for "the Close frame carried no status code". */
  NO_STATUS: 1005,
  /** Never sent: stands for "the connection ended without a Close frame". */
  ABNORMAL: 1006,
  /** A text message (or close reason) was not valid UTF-8. */
  INVALID_PAYLOAD: 1007,
  /** The peer broke a policy, for example by not reading its messages fast enough. */
  POLICY_VIOLATION: 1008,
  /** A message was larger than the endpoint accepts. */
  MESSAGE_TOO_BIG: 1009,
  /** The server met an unexpected condition. */
  INTERNAL_ERROR: 1011,
  /** The server is overloaded: try again later. */
  TRY_AGAIN_LATER: 1013,
} as const;

/**
 * Reports whether a status code may be sent in a Close frame (RFC 6455 §7.4).
 *
 * Valid: 1000-1003, 1007-1014 (defined or registered with IANA) and 3000-4999 (libraries and
 * applications). Never valid on the wire: 1004 (reserved), 1005 and 1006 (local meanings only),
 * 1015 (TLS failure), and everything else below 3000 or above 4999.
 *
 * @param code The status code.
 * @returns `true` if the code may appear in a Close frame.
 *
 * @example Usage
 * ```ts
 * import { isValidCloseCode } from "./websocket_close.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidCloseCode(1000), true);
 * assert.equal(isValidCloseCode(1005), false);
 * assert.equal(isValidCloseCode(4000), true);
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

/**
 * Encodes a Close frame payload: the status code (2 bytes, big-endian) and a UTF-8 reason.
 *
 * @param code The status code, or `undefined` for an empty payload (peer sees 1005).
 * @param reason A short reason; it must fit the 125-byte control frame with the code.
 * @returns The payload, 0 to 125 bytes.
 * @throws {RangeError} If the code may not be sent, or the reason is longer than 123 bytes.
 * @throws {TypeError} If a reason is given without a code.
 *
 * @example Usage
 * ```ts
 * import { encodeClosePayload } from "./websocket_close.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeClosePayload(1000, "bye"), new Uint8Array([0x03, 0xe8, 98, 121, 101]));
 * ```
 */
export function encodeClosePayload(code?: number, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new TypeError("Cannot encode close payload: a reason needs a code");
    return new Uint8Array(0);
  }
  if (!isValidCloseCode(code)) {
    throw new RangeError(`Cannot encode close payload: code ${code} may not be sent`);
  }
  const reasonBytes = new TextEncoder().encode(reason);
  if (reasonBytes.length > 123) {
    throw new RangeError(
      `Cannot encode close payload: reason is ${reasonBytes.length} bytes, the limit is 123`,
    );
  }
  const payload = new Uint8Array(2 + reasonBytes.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(reasonBytes, 2);
  return payload;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads a received Close frame's payload: the status code, checked, and the UTF-8 reason. An
 * empty payload means no status code (1005).
 *
 * @param payload The Close frame's unmasked payload, 0 to 125 bytes.
 * @returns The code and reason.
 * @throws {WebSocketProtocolError} If the payload is 1 byte long, the code may not be sent
 * (both close code 1002), or the reason is not valid UTF-8 (1007).
 *
 * @example Usage
 * ```ts
 * import { decodeClosePayload } from "./websocket_close.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeClosePayload(new Uint8Array([0x03, 0xe8, 98, 121, 101])), {
 *   code: 1000,
 *   reason: "bye",
 * });
 * assert.throws(() => decodeClosePayload(new Uint8Array([0x03])), { closeCode: 1002 });
 * ```
 */
export function decodeClosePayload(payload: Uint8Array): { code: number; reason: string } {
  if (payload.length === 0) return { code: 1005, reason: "" };
  if (payload.length === 1) {
    throw new WebSocketProtocolError(
      "ERR_WS_INVALID_CLOSE_PAYLOAD",
      1002,
      "close payload is 1 byte long",
    );
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) {
    throw new WebSocketProtocolError(
      "ERR_WS_INVALID_CLOSE_CODE",
      1002,
      `close code ${code} is not allowed`,
    );
  }
  let reason: string;
  try {
    reason = UTF8.decode(payload.subarray(2));
  } catch {
    throw new WebSocketProtocolError(
      "ERR_WS_INVALID_UTF8",
      1007,
      "text message is not valid UTF-8",
    );
  }
  return { code, reason };
}

/**
 * Shortens a reason to at most 123 UTF-8 bytes without cutting a character in half, so that it
 * fits a Close frame. Use it before {@linkcode encodeClosePayload} for reasons built from
 * error messages.
 *
 * @param reason Any text.
 * @returns The longest prefix of `reason` that encodes to 123 bytes or fewer.
 *
 * @example Usage
 * ```ts
 * import { truncateCloseReason } from "./websocket_close.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextEncoder().encode(truncateCloseReason("é".repeat(100))).length, 122);
 * ```
 */
export function truncateCloseReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  let end = 123;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
