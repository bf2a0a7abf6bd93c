/**
 * Just enough Telnet (RFC 854, 855, 860, 1143) for a line-based server that
 * `telnet` users connect to: {@linkcode TelnetFilter} takes the IAC commands
 * and option negotiation out of the byte stream before line decoding, answers
 * `DO TIMING-MARK` (which `telnet` sends on Ctrl+C and then waits for),
 * refuses every other option without loops, and turns the NVT line ends
 * (`CR LF`, `CR NUL`, a bare `CR`) into `LF`. For `nc` users, who send no
 * IAC, it hands their bytes through untouched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TelnetFilter } from "./mod.ts";
 *
 * const telnet = new TelnetFilter();
 * const out = telnet.push(new Uint8Array([0x68, 0x69, 0x0d, 0x0a]));
 * assert.deepEqual([...out.data], [0x68, 0x69, 0x0a]);
 * assert.equal(out.reply.length, 0);
 * ```
 *
 * @module
 */
export * from "./telnet_filter.ts";
