/**
 * Telling a TLS server's answer from an echo: what a TLS server sends back to
 * plain text is an alert record.
 *
 * @module
 */

/**
 * True if `bytes` start like a TLS alert record (content type 21, version
 * 3.x): what a TLS server answers to a client that spoke plain text to it.
 *
 * @param bytes The first bytes that came back.
 * @returns Whether they look like a TLS alert.
 *
 * @example
 * ```ts
 * import { looksLikeTlsAlert } from "./looks_like_tls_alert.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(looksLikeTlsAlert(new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32])), true);
 * assert.equal(looksLikeTlsAlert(new TextEncoder().encode("hello\n")), false);
 * ```
 */
export function looksLikeTlsAlert(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x15 && bytes[1] === 0x03;
}
