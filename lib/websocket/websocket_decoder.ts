/**
 * A push-style WebSocket frame decoder: bytes in, messages and control frames out.
 *
 * @module
 */

import { decodeClosePayload } from "./websocket_close.ts";
import { inflateMessage } from "./websocket_deflate.ts";
import { isControlOpcode, maskPayload, MAX_CONTROL_PAYLOAD, OPCODE } from "./websocket_frame.ts";
import { concatFragments, SCRATCH_SIZE, unmaskedText, wholeUtf8Text } from "./_payload_bytes.ts";
import { type WebSocketErrorCode, WebSocketProtocolError } from "./websocket_protocol_error.ts";

/** A complete message or control frame produced by {@linkcode WebSocketDecoder}. */
export type WebSocketEvent =
  | { type: "text"; data: string }
  | { type: "binary"; data: Uint8Array }
  | { type: "ping"; data: Uint8Array }
  | { type: "pong"; data: Uint8Array }
  | { type: "close"; code: number; reason: string };

/**
 * Where the decoder is within the current frame:
 * - `"info"`: waiting for the first two header bytes;
 * - `"length16"`, `"length64"`: waiting for the extended payload length;
 * - `"mask"`: waiting for the 4-byte masking key;
 * - `"payload"`: consuming payload bytes;
 * - `"closed"`: a Close frame was decoded; later bytes are ignored;
 * - `"failed"`: a protocol error was thrown; the connection must be failed.
 */
export type WebSocketDecoderState =
  | "info"
  | "length16"
  | "length64"
  | "mask"
  | "payload"
  | "closed"
  | "failed";

/** Options for {@linkcode WebSocketDecoder}. */
export interface WebSocketDecoderOptions {
  /**
   * Which end decodes: a server requires masked frames (RFC 6455 §5.1), a client requires
   * unmasked ones.
   *
   * @default {"server"}
   */
  role?: "server" | "client";
  /**
   * Largest message, in payload bytes summed over its fragments. Checked from each frame header
   * before any payload is buffered; exceeding it fails with close code 1009.
   *
   * @default {1048576} (1 MiB)
   */
  maxMessageSize?: number;
  /**
   * Largest number of frames one message may be split into; exceeding it fails with close code
   * 1009. Bounds the bookkeeping spent on floods of tiny or empty fragments.
   *
   * @default {1024}
   */
  maxFragments?: number;
  /**
   * Whether permessage-deflate (RFC 7692) was negotiated: RSV1 on the first frame of a message
   * then marks it compressed, and the decoder inflates it (each message on its own: this
   * library always agrees on no context takeover). The inflated size is bounded by
   * `maxMessageSize` while inflating, as is the compressed size on the wire.
   *
   * @default {false}
   */
  perMessageDeflate?: boolean;
}

/** Default {@linkcode WebSocketDecoderOptions.maxMessageSize}: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;
/** Default {@linkcode WebSocketDecoderOptions.maxFragments}. */
export const DEFAULT_MAX_FRAGMENTS = 1024;

const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;
const MESSAGE_TOO_BIG = 1009;

// The options of a streaming decode, made once rather than per call.
const STREAM: TextDecodeOptions = { stream: true };

/**
 * Decodes WebSocket frames from chunks of any size, as they arrive from a socket.
 *
 * It validates everything RFC 6455 asks of a receiver: reserved bits (RSV1 is allowed on a
 * message's first frame when permessage-deflate was negotiated, and such messages are inflated) and
 * opcodes, masking, control frame rules, fragmentation order, UTF-8 in text messages (checked
 * fragment by fragment as bytes arrive) and in close reasons, and close codes. Limits are checked
 * from frame headers before payload is buffered. A violation throws a
 * {@linkcode WebSocketProtocolError} that carries the close code to send; the decoder then stays
 * in the `"failed"` state. After a Close frame it stops, in the `"closed"` state.
 *
 * Cost: each payload byte is copied once (unmasked into its message buffer); a message that came
 * in several fragments is joined with one more copy. A frame split into 1-byte chunks costs the
 * same per byte as a frame in one chunk.
 *
 * @example Usage
 * ```ts
 * import { type WebSocketEvent, WebSocketDecoder } from "./websocket_decoder.ts";
 * import { encodeFrame, OPCODE } from "./websocket_frame.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new WebSocketDecoder();
 * const frame = encodeFrame(OPCODE.TEXT, "Hello", { mask: true });
 * // A frame split across chunks completes with its last byte.
 * assert.deepEqual(decoder.decode(frame.subarray(0, 3)), []);
 * assert.deepEqual(decoder.decode(frame.subarray(3)), [{ type: "text", data: "Hello" }]);
 *
 * // Keep the events that precede a protocol error in the same chunk.
 * const events: WebSocketEvent[] = [];
 * const bad = encodeFrame(OPCODE.TEXT, "x"); // unmasked: not allowed from a client
 * const twoFrames = new Uint8Array([...frame, ...bad]);
 * assert.throws(() => new WebSocketDecoder().decode(twoFrames, events), { closeCode: 1002 });
 * assert.deepEqual(events, [{ type: "text", data: "Hello" }]);
 * ```
 */
export class WebSocketDecoder {
  #expectMasked: boolean;
  #maxMessageSize: number;
  #maxFragments: number;
  #deflate: boolean;
  #state: WebSocketDecoderState = "info";
  #error: WebSocketProtocolError | undefined;

  // Header bytes that arrived split across chunks wait here (at most 8 at a time).
  #headerBytes = new Uint8Array(8);
  #headerFilled = 0;
  #gatherAt = 0;
  #gatherEnd = 0;

  // The frame being decoded.
  #fin = false;
  #opcode = 0;
  #masked = false;
  #mask = new Uint8Array(4);
  #length = 0;
  #received = 0;
  #buffer: Uint8Array | undefined; // binary and control payloads; text is decoded as it comes

  // The message being reassembled from fragments (OPCODE.TEXT/BINARY), or 0 between messages.
  #messageOpcode = 0;
  #messageSize = 0;
  #fragmentCount = 0;
  #fragments: Uint8Array[] = [];
  #text = "";
  #textDecoder: TextDecoder | undefined; // streaming, for text that comes in pieces
  #textStreaming = false; // whether the current message used #textDecoder
  #compressed = false; // RSV1 on its first frame: the message is inflated when complete

  /**
   * Creates a decoder.
   *
   * @param options Role and limits.
   * @throws {RangeError} If a limit is not a positive integer.
   */
  constructor(options: WebSocketDecoderOptions = {}) {
    const {
      role = "server",
      maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE,
      maxFragments = DEFAULT_MAX_FRAGMENTS,
      perMessageDeflate = false,
    } = options;
    if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize < 0) {
      throw new RangeError(`Cannot create decoder: maxMessageSize ${maxMessageSize} is invalid`);
    }
    if (!Number.isSafeInteger(maxFragments) || maxFragments < 1) {
      throw new RangeError(`Cannot create decoder: maxFragments ${maxFragments} is invalid`);
    }
    this.#expectMasked = role === "server";
    this.#maxMessageSize = maxMessageSize;
    this.#maxFragments = maxFragments;
    this.#deflate = perMessageDeflate;
  }

  /** Where the decoder is within the current frame. */
  get state(): WebSocketDecoderState {
    return this.#state;
  }

  /**
   * Consumes a chunk and appends every message and control frame it completes to `events`.
   *
   * The chunk is not kept or modified: it may be a view into a buffer that is reused.
   *
   * Events are appended to an array the caller may pass in because a chunk can hold a valid
   * message followed by a protocol error: the message must still be delivered, then the
   * connection failed. After a throw, `events` holds what came before the error.
   *
   * @param chunk The next bytes from the peer.
   * @param events The array to append to.
   * @returns `events`, with the events completed by this chunk appended in order.
   * @throws {WebSocketProtocolError} If the peer broke the protocol or a limit; every later call
   * throws the same error.
   */
  decode(chunk: Uint8Array, events: WebSocketEvent[] = []): WebSocketEvent[] {
    if (this.#error) throw this.#error;
    try {
      let pos = 0;
      while (pos < chunk.length) {
        switch (this.#state) {
          case "info": {
            const header = this.#gather(chunk, pos, 2);
            if (!header) return events;
            pos = this.#gatherEnd;
            const at = this.#gatherAt;
            this.#readInfo(header[at]!, header[at + 1]!, events);
            break;
          }
          case "length16": {
            const header = this.#gather(chunk, pos, 2);
            if (!header) return events;
            pos = this.#gatherEnd;
            const at = this.#gatherAt;
            this.#setLength((header[at]! << 8) | header[at + 1]!, events);
            break;
          }
          case "length64": {
            const header = this.#gather(chunk, pos, 8);
            if (!header) return events;
            pos = this.#gatherEnd;
            const view = new DataView(header.buffer, header.byteOffset + this.#gatherAt, 8);
            const high = view.getUint32(0);
            if (high & 0x80000000) {
              this.#fail(
                "ERR_WS_INVALID_LENGTH",
                PROTOCOL_ERROR,
                "64-bit length has its top bit set",
              );
            }
            this.#setLength(high * 2 ** 32 + view.getUint32(4), events);
            break;
          }
          case "mask": {
            const header = this.#gather(chunk, pos, 4);
            if (!header) return events;
            pos = this.#gatherEnd;
            for (let i = 0; i < 4; i++) this.#mask[i] = header[this.#gatherAt + i]!;
            this.#startPayload(events);
            break;
          }
          case "payload":
            pos = this.#readPayload(chunk, pos, events);
            break;
          case "closed":
          case "failed":
            return events;
        }
      }
      return events;
    } catch (error) {
      if (error instanceof WebSocketProtocolError) {
        this.#state = "failed";
        this.#error = error;
      }
      throw error;
    }
  }

  /**
   * Makes `n` header bytes available: returns the array that holds them, from index
   * `#gatherAt` (the chunk itself when it holds them all, else a small buffer that collected
   * them across chunks), and sets `#gatherEnd` to the chunk position after them. Returns
   * undefined after saving what there is, when the chunk ends first.
   */
  #gather(chunk: Uint8Array, pos: number, n: number): Uint8Array | undefined {
    if (this.#headerFilled === 0 && chunk.length - pos >= n) {
      this.#gatherAt = pos;
      this.#gatherEnd = pos + n;
      return chunk;
    }
    const take = Math.min(n - this.#headerFilled, chunk.length - pos);
    this.#headerBytes.set(chunk.subarray(pos, pos + take), this.#headerFilled);
    this.#headerFilled += take;
    if (this.#headerFilled < n) return undefined;
    this.#headerFilled = 0;
    this.#gatherAt = 0;
    this.#gatherEnd = pos + take;
    return this.#headerBytes;
  }

  #fail(code: WebSocketErrorCode, closeCode: number, detail: string): never {
    throw new WebSocketProtocolError(code, closeCode, detail);
  }

  /** Parses and checks the first two header bytes. */
  #readInfo(b0: number, b1: number, events: WebSocketEvent[]): void {
    this.#fin = (b0 & 0x80) !== 0;
    this.#opcode = b0 & 0x0f;
    this.#masked = (b1 & 0x80) !== 0;
    const length7 = b1 & 0x7f;
    // RSV1 means "compressed" once permessage-deflate is agreed, and only on the first frame of
    // a message (RFC 7692 §6); RSV2 and RSV3 are never used.
    const rsv1 = (b0 & 0x40) !== 0;
    if ((b0 & 0x30) || (rsv1 && !this.#deflate)) {
      this.#fail("ERR_WS_RESERVED_BITS", PROTOCOL_ERROR, "reserved bits are set");
    }
    if (this.#masked !== this.#expectMasked) {
      if (this.#expectMasked) {
        this.#fail("ERR_WS_UNMASKED_FRAME", PROTOCOL_ERROR, "client frame is not masked");
      }
      this.#fail("ERR_WS_MASKED_FRAME", PROTOCOL_ERROR, "server frame is masked");
    }
    const opcode = this.#opcode;
    if (rsv1 && (opcode === OPCODE.CONTINUATION || isControlOpcode(opcode))) {
      this.#fail(
        "ERR_WS_RESERVED_BITS",
        PROTOCOL_ERROR,
        `RSV1 is set on a ${opcode === OPCODE.CONTINUATION ? "continuation" : "control"} frame`,
      );
    }
    if (isControlOpcode(opcode)) {
      if (opcode !== OPCODE.CLOSE && opcode !== OPCODE.PING && opcode !== OPCODE.PONG) {
        this.#fail("ERR_WS_UNKNOWN_OPCODE", PROTOCOL_ERROR, `opcode ${opcode} is reserved`);
      }
      if (!this.#fin) {
        this.#fail(
          "ERR_WS_FRAGMENTED_CONTROL_FRAME",
          PROTOCOL_ERROR,
          "control frame is fragmented",
        );
      }
      if (length7 > MAX_CONTROL_PAYLOAD) {
        this.#fail(
          "ERR_WS_CONTROL_FRAME_TOO_BIG",
          PROTOCOL_ERROR,
          `control frame payload exceeds ${MAX_CONTROL_PAYLOAD} bytes`,
        );
      }
    } else if (opcode === OPCODE.CONTINUATION) {
      if (this.#messageOpcode === 0) {
        this.#fail(
          "ERR_WS_UNEXPECTED_CONTINUATION",
          PROTOCOL_ERROR,
          "continuation frame without a message to continue",
        );
      }
    } else if (opcode === OPCODE.TEXT || opcode === OPCODE.BINARY) {
      if (this.#messageOpcode !== 0) {
        this.#fail(
          "ERR_WS_EXPECTED_CONTINUATION",
          PROTOCOL_ERROR,
          "new message started before the fragmented one ended",
        );
      }
      this.#messageOpcode = opcode;
      this.#compressed = rsv1;
    } else {
      this.#fail("ERR_WS_UNKNOWN_OPCODE", PROTOCOL_ERROR, `opcode ${opcode} is reserved`);
    }
    if (length7 === 126) this.#state = "length16";
    else if (length7 === 127) this.#state = "length64";
    else this.#setLength(length7, events);
  }

  /** Records the payload length and enforces the message limits before any payload arrives. */
  #setLength(length: number, events: WebSocketEvent[]): void {
    this.#length = length;
    if (!isControlOpcode(this.#opcode)) {
      this.#fragmentCount++;
      if (this.#fragmentCount > this.#maxFragments) {
        this.#fail(
          "ERR_WS_TOO_MANY_FRAGMENTS",
          MESSAGE_TOO_BIG,
          `message has more than maxFragments ${this.#maxFragments} fragments`,
        );
      }
      if (this.#messageSize + length > this.#maxMessageSize) {
        this.#fail(
          "ERR_WS_MESSAGE_TOO_BIG",
          MESSAGE_TOO_BIG,
          `message of at least ${
            this.#messageSize + length
          } bytes exceeds maxMessageSize ${this.#maxMessageSize}`,
        );
      }
      this.#messageSize += length;
    }
    if (this.#masked) {
      this.#state = "mask";
    } else {
      this.#startPayload(events);
    }
  }

  /** Prepares to receive the payload; an empty payload completes the frame at once. */
  #startPayload(events: WebSocketEvent[]): void {
    this.#received = 0;
    this.#state = "payload";
    // Text is decoded as it arrives, except compressed text: it is UTF-8 only once inflated.
    const isText = this.#messageOpcode === OPCODE.TEXT && !isControlOpcode(this.#opcode) &&
      !this.#compressed;
    this.#buffer = isText ? undefined : new Uint8Array(this.#length);
    // An empty payload completes here: decode() may have no bytes left to enter "payload".
    if (this.#length === 0) this.#endFrame(events);
  }

  /** Consumes payload bytes from `chunk` at `pos` and returns the new position. */
  #readPayload(chunk: Uint8Array, pos: number, events: WebSocketEvent[]): number {
    const take = Math.min(this.#length - this.#received, chunk.length - pos);
    const buffer = this.#buffer;
    if (buffer && take <= 16) {
      // A few bytes (a peer writing tiny chunks): a plain loop costs less than making two views;
      // 1 MiB in 16-byte chunks decodes about twice as fast (scripts/bench/websocket_codec_bench.ts).
      const mask = this.#mask, at = this.#received;
      for (let i = 0; i < take; i++) {
        buffer[at + i] = chunk[pos + i]! ^ (this.#masked ? mask[(at + i) & 3]! : 0);
      }
    } else if (buffer) {
      const target = buffer.subarray(this.#received, this.#received + take);
      target.set(chunk.subarray(pos, pos + take));
      if (this.#masked) maskPayload(target, this.#mask, this.#received);
    } else if (
      this.#fin && this.#messageOpcode === OPCODE.TEXT && take === this.#length &&
      this.#fragmentCount === 1 && take <= SCRATCH_SIZE
    ) {
      // Fast path: a whole unfragmented text frame in one chunk is decoded in one call.
      const bytes = unmaskedText(chunk, pos, take, this.#masked ? this.#mask : undefined, 0);
      this.#text = wholeUtf8Text(bytes) ?? this.#failUtf8();
    } else {
      this.#textDecoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
      this.#textStreaming = true;
      const mask = this.#masked ? this.#mask : undefined;
      for (let done = 0; done < take; done += SCRATCH_SIZE) {
        const length = Math.min(take - done, SCRATCH_SIZE);
        const bytes = unmaskedText(chunk, pos + done, length, mask, this.#received + done);
        this.#text += this.#decodeText(this.#textDecoder, bytes, true);
      }
    }
    this.#received += take;
    if (this.#received === this.#length) this.#endFrame(events);
    return pos + take;
  }

  #decodeText(decoder: TextDecoder, bytes: Uint8Array, stream: boolean): string {
    try {
      return stream ? decoder.decode(bytes, STREAM) : decoder.decode(bytes);
    } catch {
      this.#textDecoder = undefined; // its state is unknown after an error
      this.#failUtf8();
    }
  }

  #failUtf8(): never {
    this.#fail("ERR_WS_INVALID_UTF8", INVALID_PAYLOAD, "text message is not valid UTF-8");
  }

  /** Completes a frame: emits a control frame, or a message when this was its final fragment. */
  #endFrame(events: WebSocketEvent[]): void {
    this.#state = "info";
    const opcode = this.#opcode;
    if (isControlOpcode(opcode)) {
      const data = this.#buffer!;
      this.#buffer = undefined;
      if (opcode === OPCODE.PING) events.push({ type: "ping", data });
      else if (opcode === OPCODE.PONG) events.push({ type: "pong", data });
      else {
        events.push({ type: "close", ...decodeClosePayload(data) });
        this.#state = "closed";
      }
      return;
    }
    if (this.#buffer) {
      this.#fragments.push(this.#buffer);
      this.#buffer = undefined;
    }
    if (!this.#fin) return;
    if (this.#compressed) {
      const data = inflateMessage(
        concatFragments(this.#fragments, this.#messageSize),
        this.#maxMessageSize,
      );
      this.#fragments = [];
      events.push(
        this.#messageOpcode === OPCODE.TEXT
          ? { type: "text", data: wholeUtf8Text(data) ?? this.#failUtf8() }
          : { type: "binary", data },
      );
      this.#compressed = false;
    } else if (this.#messageOpcode === OPCODE.TEXT) {
      // A message cut inside a character fails here, when the decoder is flushed.
      if (this.#textStreaming) {
        this.#text += this.#decodeText(this.#textDecoder!, new Uint8Array(0), false);
        this.#textStreaming = false;
      }
      events.push({ type: "text", data: this.#text });
      this.#text = "";
    } else {
      events.push({ type: "binary", data: concatFragments(this.#fragments, this.#messageSize) });
      this.#fragments = [];
    }
    this.#messageOpcode = 0;
    this.#messageSize = 0;
    this.#fragmentCount = 0;
  }
}
