/**
 * Sending a file over TCP with resume and an end-to-end SHA-256 check, as
 * `scripts/file_send.ts` and `scripts/file_receive.ts` do. Control messages
 * are length-prefixed JSON (framing/), the file bytes follow raw.
 *
 * - {@linkcode encodeMessage} / {@linkcode decodeMessage}
 *   (file_transfer_protocol.ts): the four messages and their checks; the
 *   module doc draws the exchange.
 * - {@linkcode sendFile} (file_sender.ts): the sender on a connected socket.
 * - {@linkcode FileReceiver} (file_receiver.ts): the receiver, one connection
 *   in, one verified file out.
 * - {@linkcode hashFilePrefix} (hash_file_prefix.ts): hash what is already on
 *   disk, then go on hashing what arrives (resume).
 * - {@linkcode assertSafeFileName} (safe_file_name.ts): refuse a name from the
 *   network that could escape the target folder.
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeMessage({ type: "start", offset: 0 });
 * assert.deepEqual(decodeMessage(frame.subarray(4), ["start"]), { type: "start", offset: 0 });
 * ```
 *
 * @module
 */
export * from "./failure_throttle.ts";
export * from "./file_receiver.ts";
export * from "./file_sender.ts";
export * from "./file_transfer_protocol.ts";
export * from "./hash_file_prefix.ts";
export * from "./safe_file_name.ts";
export * from "./transfer_auth.ts";
export * from "./write_random_file.ts";
