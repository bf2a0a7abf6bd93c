/**
 * The probe datagram of the UDP client's ping, bench and stdin modes: a
 * small header carrying a sequence number and the send time, then payload.
 * An echo server sends it back unchanged, so the client can match each reply
 * to its request and measure the round trip from the reply alone.
 *
 * Layout (big-endian), {@linkcode ECHO_PROBE_HEADER_SIZE} bytes of header:
 *
 * ```text
 * offset 0  4 bytes  magic "UEP1" (tells our probes from anything else)
 * offset 4  4 bytes  sequence number (uint32)
 * offset 8  8 bytes  send time (float64, ms on the sender's monotonic clock)
 * offset 16          payload
 * ```
 *
 * @module
 */

/** The header size in bytes: the smallest probe. */
export const ECHO_PROBE_HEADER_SIZE = 16;

/** The largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP header bytes). */
export const MAX_UDP_PAYLOAD = 65_507;

const MAGIC = 0x55455031; // "UEP1"

/** A decoded probe. */
export interface EchoProbe {
  /** The sequence number, 0 to 2^32 - 1. */
  seq: number;
  /** When the probe was sent, in ms on the sender's `performance.now()` clock. */
  sentAt: number;
  /** The bytes after the header (a view into the decoded datagram). */
  payload: Uint8Array;
}

/** Options for {@linkcode encodeEchoProbe}. */
export interface EncodeEchoProbeOptions {
  /**
   * The send time to write, in ms.
   *
   * @default {performance.now()}
   */
  sentAt?: number;
  /**
   * The payload after the header.
   *
   * @default {empty}
   */
  payload?: Uint8Array;
  /**
   * Pad the datagram with zero bytes to this total size (header included);
   * ignored when the header and payload are already as long.
   *
   * @default {0}
   */
  size?: number;
}

/**
 * Builds a probe datagram.
 *
 * @param seq The sequence number.
 * @param options Send time, payload and padding.
 * @returns The datagram, at least {@linkcode ECHO_PROBE_HEADER_SIZE} bytes.
 * @throws {RangeError} If `seq` is not an integer from 0 to 2^32 - 1, or the
 *   datagram would exceed {@linkcode MAX_UDP_PAYLOAD} bytes.
 *
 * @example
 * ```ts
 * import { decodeEchoProbe, encodeEchoProbe } from "./echo_probe.ts";
 * import assert from "node:assert/strict";
 *
 * const datagram = encodeEchoProbe(7, { sentAt: 12.5, size: 64 });
 * assert.equal(datagram.length, 64);
 * const probe = decodeEchoProbe(datagram);
 * assert.ok(probe);
 * assert.equal(probe.seq, 7);
 * assert.equal(probe.sentAt, 12.5);
 * ```
 */
export function encodeEchoProbe(seq: number, options: EncodeEchoProbeOptions = {}): Uint8Array {
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff_ffff) {
    throw new RangeError(`Cannot encode probe: seq ${seq} is not a 32-bit unsigned integer`);
  }
  const payload = options.payload ?? new Uint8Array(0);
  const length = Math.max(ECHO_PROBE_HEADER_SIZE + payload.length, options.size ?? 0);
  if (length > MAX_UDP_PAYLOAD) {
    throw new RangeError(
      `Cannot encode probe: ${length} bytes exceeds the UDP maximum of ${MAX_UDP_PAYLOAD}`,
    );
  }
  const datagram = new Uint8Array(length);
  const view = new DataView(datagram.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, seq);
  view.setFloat64(8, options.sentAt ?? performance.now());
  datagram.set(payload, ECHO_PROBE_HEADER_SIZE);
  return datagram;
}

/**
 * Reads a probe datagram.
 *
 * @param datagram A received datagram.
 * @returns The probe, or `null` when the datagram is too short or lacks the
 *   magic (it is not one of our probes: a stray datagram, not an error).
 *
 * @example
 * ```ts
 * import { decodeEchoProbe } from "./echo_probe.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeEchoProbe(new TextEncoder().encode("hello")), null);
 * ```
 */
export function decodeEchoProbe(datagram: Uint8Array): EchoProbe | null {
  if (datagram.length < ECHO_PROBE_HEADER_SIZE) return null;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (view.getUint32(0) !== MAGIC) return null;
  return {
    seq: view.getUint32(4),
    sentAt: view.getFloat64(8),
    payload: datagram.subarray(ECHO_PROBE_HEADER_SIZE),
  };
}
