/**
 * The messages of the file-transfer protocol spoken by `scripts/file_send.ts`
 * and `scripts/file_receive.ts`, and their checks.
 *
 * ```text
 * sender                                          receiver
 *   | -- frame {"type":"file","version":1,            |
 *   |           "name":"x.bin","size":N} ----------> |  checks the message's shape and name
 *   |                                                 |  only with a secret:
 *   | <-- frame {"type":"challenge",                  |    32 fresh random bytes
 *   |            "nonce":"<hex>"} ------------------- |
 *   | -- frame {"type":"auth","hmac":"<hex>"} -----> |    HMAC-SHA-256(secret, nonce + header)
 *   |                                                 |    checked in constant time
 *   |                                                 |  size <= max-size? name free?
 *   | <-- frame {"type":"resume","offset":K,          |  K = bytes it already holds
 *   |            "sha256":"<hex of bytes 0..K>"} ---- |  (or a verdict {"ok":false} and close)
 *   | -- frame {"type":"start","offset":S} --------> |  S = K if the sender's first K bytes
 *   |                                                 |  hash the same, else 0 (start over)
 *   | -- raw bytes S..N of the file ---------------> |  written to .x.bin.part, hashed
 *   | -- 32 raw bytes: SHA-256 of bytes 0..N ------> |
 *   | <-- frame {"type":"verdict","ok":true,...} ---- |  size and hash match: renamed to x.bin
 * ```
 *
 * Frames are 4-byte big-endian length + UTF-8 JSON, at most
 * {@linkcode MAX_CONTROL_FRAME_SIZE} bytes. The receiver may send a verdict
 * with `"ok":false` at any time after the header (refused, shutting down,
 * disk error) and then closes; `"retry":true` means sending again later
 * resumes; `"busy":true` says it is at its connection limit (sent at once on
 * connecting, before the sender's header is read). Checksums cover the whole
 * file, so a resumed transfer is verified exactly like a fresh one.
 *
 * A receiver started with a secret answers the header with a `challenge`
 * and acts on nothing in it (no size limit, no look at its directory) until
 * the `auth` reply proves the sender knows the secret: an HMAC over the
 * nonce and the exact header bytes, so the secret never crosses the wire and
 * a recorded exchange fails against the next connection's fresh nonce (see
 * `transfer_auth.ts`). A sender without a secret answers `auth` with no
 * `hmac`. This proves who may send; it does not hide the file: without TLS
 * the content is readable on the wire.
 *
 * @module
 */

import { encodeLengthPrefixed } from "../framing/length_prefixed.ts";
import { assertSafeFileName } from "./safe_file_name.ts";

/** The protocol version in the `file` message. */
export const FILE_TRANSFER_VERSION = 1;

/** The largest control frame (JSON message), in bytes. */
export const MAX_CONTROL_FRAME_SIZE = 16 * 1024;

/** Size of the SHA-256 trailer after the file's bytes. */
export const SHA256_SIZE = 32;

/** The verdict's reason for a sender that gave no secret to a receiver that has one. */
export const NEEDS_SECRET = "this receiver needs --secret";

/** The verdict's reason for a sender whose proof of the secret did not match. */
export const WRONG_SECRET = "wrong secret";

/** Sender → receiver: what is coming. */
export interface FileMessage {
  /** Message type. */
  type: "file";
  /** Protocol version, {@linkcode FILE_TRANSFER_VERSION}. */
  version: number;
  /** The file's name (no path). */
  name: string;
  /** The file's size in bytes. */
  size: number;
}

/** Receiver → sender, only when it has a secret: prove you know it. */
export interface ChallengeMessage {
  /** Message type. */
  type: "challenge";
  /** A fresh random nonce for this connection, lowercase hex. */
  nonce: string;
}

/** Sender → receiver: the answer to a {@linkcode ChallengeMessage}. */
export interface AuthMessage {
  /** Message type. */
  type: "auth";
  /**
   * HMAC-SHA-256 of the nonce followed by the header frame's payload, keyed
   * with the secret, lowercase hex; absent when the sender has no secret.
   */
  hmac?: string;
}

/** Receiver → sender: how much it already has, for resuming. */
export interface ResumeMessage {
  /** Message type. */
  type: "resume";
  /** Bytes of the file the receiver already holds (0 for a new transfer). */
  offset: number;
  /** SHA-256 of those bytes, lowercase hex, so the sender can check they are its own. */
  sha256: string;
}

/** Sender → receiver: where the raw bytes that follow start. */
export interface StartMessage {
  /** Message type. */
  type: "start";
  /** The offered offset, or 0 to start over. */
  offset: number;
}

/** Receiver → sender: the outcome. */
export interface VerdictMessage {
  /** Message type. */
  type: "verdict";
  /** True once the file is verified and in place. */
  ok: boolean;
  /** Why not, when `ok` is false. */
  error?: string;
  /** When `ok` is false: sending again later may succeed and resumes. */
  retry?: boolean;
  /** When `ok` is false: the receiver is at its connection limit (with `retry`). */
  busy?: boolean;
  /** The saved name, when `ok`. */
  name?: string;
  /** The saved size, when `ok`. */
  size?: number;
  /** The verified SHA-256 (hex), when `ok`. */
  sha256?: string;
}

/** Any message of the protocol. */
export type FileTransferMessage =
  | FileMessage
  | ChallengeMessage
  | AuthMessage
  | ResumeMessage
  | StartMessage
  | VerdictMessage;

/** The receiver refused or rejected a transfer; `message` is the receiver's reason. */
export class FileTransferError extends Error {
  /** True when sending again later may succeed (and resumes). */
  readonly retry: boolean;

  /**
   * Creates the error.
   *
   * @param message The receiver's reason.
   * @param retry Whether a later attempt may succeed.
   */
  constructor(message: string, retry = false) {
    super(message);
    this.name = "FileTransferError";
    this.retry = retry;
  }
}

/**
 * Encodes a message as one length-prefixed JSON frame.
 *
 * @param message The message.
 * @returns The frame's bytes.
 * @throws {RangeError} If the frame would exceed {@linkcode MAX_CONTROL_FRAME_SIZE}.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./file_transfer_protocol.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeMessage({ type: "start", offset: 0 });
 * assert.equal(frame[3], frame.length - 4);
 * ```
 */
export function encodeMessage(message: FileTransferMessage): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(message));
  if (json.length > MAX_CONTROL_FRAME_SIZE) {
    throw new RangeError(
      `Cannot encode ${message.type} message: ${json.length} bytes exceeds ${MAX_CONTROL_FRAME_SIZE}`,
    );
  }
  return encodeLengthPrefixed(json);
}

/** Options for {@linkcode decodeMessage}. */
export interface DecodeMessageOptions {
  /**
   * For a `file` message: the largest size accepted, in bytes.
   *
   * @default {Number.MAX_SAFE_INTEGER}
   */
  maxSize?: number;
}

/** Maps a message type to its interface. */
export interface FileTransferMessageTypes {
  /** See {@linkcode FileMessage}. */
  file: FileMessage;
  /** See {@linkcode ChallengeMessage}. */
  challenge: ChallengeMessage;
  /** See {@linkcode AuthMessage}. */
  auth: AuthMessage;
  /** See {@linkcode ResumeMessage}. */
  resume: ResumeMessage;
  /** See {@linkcode StartMessage}. */
  start: StartMessage;
  /** See {@linkcode VerdictMessage}. */
  verdict: VerdictMessage;
}

/**
 * Decodes and checks one frame's payload as a message of one of the
 * `expected` types. Everything from the peer is checked, since JSON can
 * hold anything: types, integer ranges, hex digests, and file names
 * (with {@linkcode assertSafeFileName}).
 *
 * @param payload The frame's payload.
 * @param expected The types allowed at this point of the protocol.
 * @param options Limits.
 * @returns The checked message.
 * @throws {SyntaxError} If the payload is not UTF-8 JSON.
 * @throws {TypeError} If it is not a well-formed message of an expected type,
 *   or the file name is unsafe.
 * @throws {RangeError} If a `file` message's size exceeds `maxSize`.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "./file_transfer_protocol.ts";
 * import assert from "node:assert/strict";
 *
 * const json = '{"type":"file","version":1,"name":"a.txt","size":5}';
 * const message = decodeMessage(new TextEncoder().encode(json), ["file"]);
 * assert.equal(message.type, "file");
 * assert.equal(message.size, 5);
 * assert.throws(
 *   () => decodeMessage(new TextEncoder().encode(json), ["file"], { maxSize: 4 }),
 *   RangeError,
 * );
 * ```
 */
export function decodeMessage<const T extends keyof FileTransferMessageTypes>(
  payload: Uint8Array,
  expected: readonly T[],
  options: DecodeMessageOptions = {},
): FileTransferMessageTypes[T] {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch (error) {
    throw new SyntaxError(
      `Cannot decode message: not UTF-8 JSON (${(error as Error).message})`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("Cannot decode message: expected a JSON object");
  }
  const message = value as Record<string, unknown>;
  const type = message.type;
  if (typeof type !== "string" || !(expected as readonly string[]).includes(type)) {
    throw new TypeError(
      `Cannot decode message: expected type ${expected.join(" or ")}, got ${JSON.stringify(type)}`,
    );
  }
  switch (type as keyof FileTransferMessageTypes) {
    case "file": {
      if (message.version !== FILE_TRANSFER_VERSION) {
        throw new TypeError(
          `Cannot decode file message: protocol version ${
            JSON.stringify(message.version)
          } is not ${FILE_TRANSFER_VERSION}`,
        );
      }
      const size = byteCount(message.size, "file message size");
      const maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
      const name = assertSafeFileName(message.name);
      if (size > maxSize) {
        throw new RangeError(
          `Cannot accept ${name}: size ${size} exceeds the receiver's max-size of ${maxSize} bytes`,
        );
      }
      return {
        type: "file",
        version: FILE_TRANSFER_VERSION,
        name,
        size,
      } as FileTransferMessageTypes[T];
    }
    case "challenge":
      return {
        type: "challenge",
        nonce: hexDigest(message.nonce, "challenge nonce"),
      } as FileTransferMessageTypes[T];
    case "auth":
      return (message.hmac === undefined ? { type: "auth" } : {
        type: "auth",
        hmac: hexDigest(message.hmac, "auth hmac"),
      }) as FileTransferMessageTypes[T];
    case "resume": {
      const offset = byteCount(message.offset, "resume offset");
      if (typeof message.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(message.sha256)) {
        throw new TypeError("Cannot decode resume message: sha256 is not 64 lowercase hex digits");
      }
      return { type: "resume", offset, sha256: message.sha256 } as FileTransferMessageTypes[T];
    }
    case "start":
      return {
        type: "start",
        offset: byteCount(message.offset, "start offset"),
      } as FileTransferMessageTypes[T];
    case "verdict": {
      if (typeof message.ok !== "boolean") {
        throw new TypeError("Cannot decode verdict: ok is not a boolean");
      }
      const verdict: VerdictMessage = { type: "verdict", ok: message.ok };
      if (typeof message.error === "string") verdict.error = message.error.slice(0, 1000);
      if (message.retry === true) verdict.retry = true;
      if (message.busy === true) verdict.busy = true;
      if (typeof message.name === "string") verdict.name = message.name;
      if (Number.isSafeInteger(message.size)) verdict.size = message.size as number;
      if (typeof message.sha256 === "string") verdict.sha256 = message.sha256;
      return verdict as FileTransferMessageTypes[T];
    }
  }
  throw new TypeError(`Cannot decode message: unknown type ${JSON.stringify(type)}`);
}

function hexDigest(value: unknown, what: string): string {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) {
    throw new TypeError(`Cannot decode ${what}: not 64 lowercase hex digits`);
  }
  return value;
}

function byteCount(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`Cannot decode ${what}: ${JSON.stringify(value)} is not a byte count`);
  }
  return value;
}

/**
 * Formats a digest as lowercase hex.
 *
 * @param digest The digest bytes.
 * @returns The hex text.
 *
 * @example
 * ```ts
 * import { toHex } from "./file_transfer_protocol.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toHex(new Uint8Array([0, 255])), "00ff");
 * ```
 */
export function toHex(digest: Uint8Array): string {
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Parses lowercase or uppercase hex into bytes.
 *
 * @param hex An even number of hex digits.
 * @returns The bytes.
 * @throws {SyntaxError} If `hex` is not an even number of hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromHex } from "./file_transfer_protocol.ts";
 *
 * assert.deepEqual(fromHex("00ff"), new Uint8Array([0, 255]));
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) {
    throw new SyntaxError(
      `Cannot decode hex: ${JSON.stringify(hex.slice(0, 20))} is not hex bytes`,
    );
  }
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/**
 * Encodes the verdict a receiver at its connection limit sends to each
 * sender it cannot serve, before reading anything: `busy`, try again later
 * (a sender retries with backoff). Give it to `serveTcp` as `busyMessage`,
 * so the refusal is a frame the sender can read, not text.
 *
 * @param limit The connection limit, for the message.
 * @returns The frame's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMessage, encodeBusyVerdict } from "./file_transfer_protocol.ts";
 *
 * const frame = encodeBusyVerdict(100);
 * const verdict = decodeMessage(frame.subarray(4), ["verdict"]);
 * assert.deepEqual([verdict.ok, verdict.busy, verdict.retry], [false, true, true]);
 * ```
 */
export function encodeBusyVerdict(limit: number): Uint8Array {
  return encodeMessage({
    type: "verdict",
    ok: false,
    error: `the receiver is busy (${limit} ${limit === 1 ? "sender" : "senders"} at once)`,
    retry: true,
    busy: true,
  });
}
