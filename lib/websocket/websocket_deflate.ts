/**
 * The permessage-deflate extension (RFC 7692): negotiating it in the opening handshake, and
 * compressing and inflating one message at a time with the runtime's `node:zlib`.
 *
 * How this library uses it, and why:
 * - Both sides reset their compression context after every message: the server always answers
 *   with `server_no_context_takeover` and `client_no_context_takeover` (RFC 7692 §7.1.1 lets a
 *   server add both to any response). Each message is then compressed and inflated on its own,
 *   with the synchronous `deflateRawSync`/`inflateRawSync`, so no zlib context outlives a
 *   message: a connection holds no zlib memory between messages, only one zlib call runs at a
 *   time in the process (JavaScript runs on one thread), and a message compressed once can be
 *   sent to every connection that negotiated the extension (fan-out).
 * - The price is compression ratio on small messages, which cannot refer back to earlier ones.
 *   Messages below {@linkcode PerMessageDeflateOptions.threshold} are sent uncompressed anyway.
 *
 * Memory: between messages, none. During one call (one at a time per process), zlib allocates
 * about `2^(windowBits + 2) + 128 KiB` to deflate (256 KiB at window bits 15) and 32 KiB plus a
 * few KiB to inflate; the output is at most the message itself when sending, and at most
 * `maxMessageSize` when inflating, because inflating stops as soon as the output would exceed it
 * (a small message that would inflate to 1 GiB costs no more than the limit).
 * Measured with 1000 python websockets clients each echoing five 12 KB messages: the server's
 * heap and RSS per connection were the same with compression on and off, within 12 KiB of
 * noise (about 170 KiB RSS per connection after that traffic either way).
 *
 * Time: per message, one zlib call of a few microseconds plus about 1.5 µs per KiB at level 1
 * (an 8 KiB JSON message: about 15 µs to deflate, 12 µs to inflate;
 * `deno bench scripts/bench/websocket_codec_bench.ts`). It runs on the event loop, so the
 * threshold keeps it off the many small messages where it would not pay.
 *
 * @module
 */

import zlib from "node:zlib";
import { WebSocketProtocolError } from "./websocket_protocol_error.ts";

/** The extension token in `Sec-WebSocket-Extensions`. */
export const PER_MESSAGE_DEFLATE = "permessage-deflate";

/** Options for the server side of permessage-deflate, for {@linkcode negotiatePerMessageDeflate}. */
export interface PerMessageDeflateOptions {
  /**
   * Messages shorter than this many bytes are sent uncompressed: compressing a short message
   * costs more time than it saves bytes, and often makes it longer.
   *
   * @default {1024}
   */
  threshold?: number;
  /**
   * The zlib compression level, 0 (store) to 9 (smallest). Compression runs on the server's only
   * thread, so the default favours speed: on 100 KiB of JSON, level 1 takes about a sixth of the
   * time of level 6 for output about 1.5 times larger.
   *
   * @default {1}
   */
  level?: number;
  /**
   * The largest LZ77 window the server compresses with, 9-15 (`server_max_window_bits`). A
   * smaller window needs less memory while compressing and finds fewer repeats. An offer that
   * asks for a window below 9 is declined: zlib cannot compress within 256 bytes.
   *
   * @default {15}
   */
  serverMaxWindowBits?: number;
  /**
   * The largest window the client may compress with, 8-15 (`client_max_window_bits`); only
   * sent when the client's offer allows it. It limits the client's memory, not the server's.
   *
   * @default {15}
   */
  clientMaxWindowBits?: number;
}

/** What the handshake agreed for permessage-deflate, and how this end compresses. */
export interface PerMessageDeflate {
  /** The server resets its compression context after each message (always `true` here). */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message (always `true` here). */
  clientNoContextTakeover: boolean;
  /** The window the server compresses with, 8-15 bits. */
  serverMaxWindowBits: number;
  /** The window the client compresses with, 8-15 bits. */
  clientMaxWindowBits: number;
  /** Messages shorter than this many bytes are sent uncompressed. */
  threshold: number;
  /** The zlib compression level for messages this end sends. */
  level: number;
}

/** The result of a successful {@linkcode negotiatePerMessageDeflate}. */
export interface PerMessageDeflateAgreement {
  /** The agreed parameters, for `WebSocketConnectionOptions.perMessageDeflate`. */
  params: PerMessageDeflate;
  /** The value of the `Sec-WebSocket-Extensions` response header. */
  header: string;
}

/** Default {@linkcode PerMessageDeflateOptions.threshold}: 1 KiB. */
export const DEFAULT_DEFLATE_THRESHOLD = 1024;

const TRAILER = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const { Z_SYNC_FLUSH } = zlib.constants;

/**
 * Chooses the first acceptable permessage-deflate offer of a `Sec-WebSocket-Extensions` request
 * header (RFC 7692 §7.1), or none.
 *
 * An offer is declined when a parameter is unknown, repeated or out of range, or when it asks
 * for a server window below 9 bits. Other extensions are ignored.
 *
 * @param header The request's `Sec-WebSocket-Extensions` header, or `null` when absent.
 * @param options Threshold, level and window limits.
 * @returns The agreed parameters and the response header value, or `undefined` when no offer
 * is acceptable (the connection then goes on without compression).
 * @throws {RangeError} If an option is out of range.
 *
 * @example Usage: the offer a browser sends
 * ```ts
 * import { negotiatePerMessageDeflate } from "./websocket_deflate.ts";
 * import assert from "node:assert/strict";
 *
 * const agreed = negotiatePerMessageDeflate("permessage-deflate; client_max_window_bits");
 * assert.equal(
 *   agreed?.header,
 *   "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
 * );
 * assert.equal(negotiatePerMessageDeflate("x-webkit-deflate-frame"), undefined);
 * ```
 */
export function negotiatePerMessageDeflate(
  header: string | null,
  options: PerMessageDeflateOptions = {},
): PerMessageDeflateAgreement | undefined {
  const {
    threshold = DEFAULT_DEFLATE_THRESHOLD,
    level = 1,
    serverMaxWindowBits = 15,
    clientMaxWindowBits = 15,
  } = options;
  checkOption("threshold", threshold, 0, Number.MAX_SAFE_INTEGER);
  checkOption("level", level, 0, 9);
  checkOption("serverMaxWindowBits", serverMaxWindowBits, 9, 15);
  checkOption("clientMaxWindowBits", clientMaxWindowBits, 8, 15);
  if (header === null) return undefined;
  for (const offer of parseExtensions(header)) {
    if (offer.name !== PER_MESSAGE_DEFLATE) continue;
    const agreed = acceptOffer(offer.params, serverMaxWindowBits, clientMaxWindowBits);
    if (agreed === undefined) continue;
    const params: PerMessageDeflate = {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: agreed.server,
      clientMaxWindowBits: agreed.client,
      threshold,
      level,
    };
    const parts = [PER_MESSAGE_DEFLATE, "server_no_context_takeover", "client_no_context_takeover"];
    if (agreed.sendServerBits) parts.push(`server_max_window_bits=${agreed.server}`);
    if (agreed.sendClientBits) parts.push(`client_max_window_bits=${agreed.client}`);
    return { params, header: parts.join("; ") };
  }
  return undefined;
}

/** Checks one offer's parameters; returns the windows to use, or undefined to decline it. */
function acceptOffer(
  params: Map<string, string | true>,
  serverLimit: number,
  clientLimit: number,
):
  | { server: number; client: number; sendServerBits: boolean; sendClientBits: boolean }
  | undefined {
  let server = serverLimit, client = 15, sendServerBits = serverLimit < 15, sendClientBits = false;
  for (const [name, value] of params) {
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== true) return undefined; // these take no value
        break;
      case "server_max_window_bits": {
        const bits = windowBits(value);
        // The client cannot inflate with a larger window than it asked for; below 9 zlib
        // cannot compress at all.
        if (bits === undefined || bits < 9) return undefined;
        server = Math.min(bits, serverLimit);
        sendServerBits = true;
        break;
      }
      case "client_max_window_bits": {
        // Without a value it only says "the server may choose": choose only to limit it.
        const bits = value === true ? 15 : windowBits(value);
        if (bits === undefined) return undefined;
        client = Math.min(bits, clientLimit);
        sendClientBits = value !== true || client < 15;
        break;
      }
      default:
        return undefined; // RFC 7692 §7.1: decline an offer with an unknown parameter
    }
  }
  return { server, client, sendServerBits, sendClientBits };
}

/** Parses a window size parameter: an integer 8-15, or undefined. */
function windowBits(value: string | true): number | undefined {
  if (value === true || !/^(?:8|9|1[0-5])$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Splits a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1) into extensions and parameters.
 * A repeated parameter marks the whole offer invalid (its params become an unknown name).
 */
function parseExtensions(header: string): { name: string; params: Map<string, string | true> }[] {
  // Values may be quoted strings; the permessage-deflate ones are plain numbers, so splitting on
  // "," and ";" is enough: a quoted comma can only garble an offer this library ignores.
  return header.split(",").map((extension) => {
    const [name = "", ...rawParams] = extension.split(";").map((part) => part.trim());
    const params = new Map<string, string | true>();
    for (const raw of rawParams) {
      const equals = raw.indexOf("=");
      const key = (equals < 0 ? raw : raw.slice(0, equals)).trim().toLowerCase();
      let value: string | true = true;
      if (equals >= 0) {
        value = raw.slice(equals + 1).trim();
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
          value = value.slice(1, -1);
        }
      }
      if (params.has(key)) params.set(" repeated", true); // declined as an unknown parameter
      params.set(key, value);
    }
    return { name: name.toLowerCase(), params };
  });
}

function checkOption(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot negotiate permessage-deflate: ${name} ${value} is not an integer ${min}-${max}`,
    );
  }
}

/** Options for {@linkcode deflateMessage}. */
export interface DeflateMessageOptions {
  /**
   * The zlib compression level, 0-9.
   *
   * @default {1}
   */
  level?: number;
  /**
   * The LZ77 window in bits, 9-15: at most the `max_window_bits` agreed for this end.
   *
   * @default {15}
   */
  windowBits?: number;
}

/**
 * Compresses one message payload as RFC 7692 §7.2.1 describes: raw DEFLATE ended by a sync
 * flush, without the final `00 00 ff ff`. Send it in a frame with RSV1 set
 * (`encodeFrame(opcode, compressed, { rsv: 4 })`). Each call starts with an empty window (no
 * context takeover), so the result can be sent to any connection that negotiated the extension.
 *
 * @param payload The message bytes (for text, its UTF-8).
 * @param options Level and window size.
 * @returns The compressed payload.
 * @throws {RangeError} If the level or window size is out of range.
 *
 * @example Usage
 * ```ts
 * import { deflateMessage, inflateMessage } from "./websocket_deflate.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextEncoder().encode("hello ".repeat(100));
 * const compressed = deflateMessage(text);
 * assert.ok(compressed.length < 30);
 * assert.deepEqual(inflateMessage(compressed, 1024), text);
 * ```
 */
export function deflateMessage(
  payload: Uint8Array,
  options: DeflateMessageOptions = {},
): Uint8Array {
  const { level = 1, windowBits = 15 } = options;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`Cannot deflate message: level ${level} is not an integer 0-9`);
  }
  if (!Number.isInteger(windowBits) || windowBits < 9 || windowBits > 15) {
    throw new RangeError(`Cannot deflate message: windowBits ${windowBits} is not 9-15`);
  }
  const out = zlib.deflateRawSync(payload, { level, windowBits, finishFlush: Z_SYNC_FLUSH });
  // A sync flush always ends with an empty stored block, 00 00 ff ff: the receiver adds it back.
  const end = endsWithTrailer(out) ? out.length - 4 : out.length;
  return new Uint8Array(out.buffer, out.byteOffset, end);
}

/**
 * Inflates one compressed message payload (RFC 7692 §7.2.2): appends `00 00 ff ff` and
 * inflates, stopping as soon as the output would exceed `maxSize`.
 *
 * @param payload The compressed payload, all fragments joined.
 * @param maxSize The largest inflated size accepted, in bytes.
 * @returns The inflated message bytes.
 * @throws {WebSocketProtocolError} With close code 1009 when the output would exceed `maxSize`
 * (no more than `maxSize` bytes and zlib's own buffers are spent finding out), and 1007 when the
 * data is not valid DEFLATE.
 *
 * @example Usage: a compression bomb stops at the limit
 * ```ts
 * import { deflateMessage, inflateMessage } from "./websocket_deflate.ts";
 * import assert from "node:assert/strict";
 *
 * const bomb = deflateMessage(new Uint8Array(16 << 20)); // 16 MiB of zeros, about 16 KiB
 * assert.throws(() => inflateMessage(bomb, 64 * 1024), { closeCode: 1009 });
 * assert.throws(() => inflateMessage(new Uint8Array([0xff, 0xff]), 1024), { closeCode: 1007 });
 * ```
 */
export function inflateMessage(payload: Uint8Array, maxSize: number): Uint8Array {
  const input = new Uint8Array(payload.length + 4);
  input.set(payload);
  input.set(TRAILER, payload.length);
  let out: Uint8Array;
  try {
    // maxOutputLength makes zlib stop and throw once its output passes the limit, instead of
    // inflating everything and checking the size afterwards.
    out = zlib.inflateRawSync(input, {
      finishFlush: Z_SYNC_FLUSH,
      maxOutputLength: Math.max(1, maxSize),
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new WebSocketProtocolError(
        "ERR_WS_MESSAGE_TOO_BIG",
        1009,
        `inflated message exceeds maxMessageSize ${maxSize}`,
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new WebSocketProtocolError(
      "ERR_WS_INVALID_COMPRESSED_DATA",
      1007,
      `compressed data is invalid (${detail})`,
    );
  }
  if (out.length > maxSize) {
    throw new WebSocketProtocolError(
      "ERR_WS_MESSAGE_TOO_BIG",
      1009,
      `inflated message exceeds maxMessageSize ${maxSize}`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function endsWithTrailer(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 4 && bytes[n - 4] === 0 && bytes[n - 3] === 0 && bytes[n - 2] === 0xff &&
    bytes[n - 1] === 0xff;
}
