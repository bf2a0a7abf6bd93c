/**
 * A traffic hex dump in the style of `ncat --hex-dump` and `socat -x`: a direction marker and
 * a running offset per direction, 16 bytes per row in hex, then the printable ASCII.
 *
 * ```text
 * > 00000000  68 65 6c 6c 6f 0a                                 hello.
 * < 00000000  68 65 6c 6c 6f 0a                                 hello.
 * ```
 *
 * @module
 */

/** Which way the bytes went: `>` sent, `<` received. */
export type HexDumpDirection = ">" | "<";

/** Per-direction callbacks, from {@linkcode HexDumper.hooks}. */
export interface HexDumpHooks {
  /** Dumps bytes that were sent. */
  onSend: (bytes: Uint8Array) => void;
  /** Dumps bytes that were received. */
  onReceive: (bytes: Uint8Array) => void;
}

/**
 * Formats bytes as hex dump rows. Only printable ASCII (0x20-0x7e) is shown as itself; every
 * other byte is a dot, so a dump is safe to print on a terminal.
 *
 * @param bytes The bytes to show.
 * @param direction `>` for sent, `<` for received.
 * @param offset The offset of `bytes[0]` in its direction's stream.
 * @returns One line per 16 bytes, each ending with a newline (empty for no bytes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatHexDump } from "./hex_dump.ts";
 *
 * const rows = formatHexDump(new TextEncoder().encode("hi\n"), ">", 0);
 * assert.equal(rows, "> 00000000  68 69 0a" + " ".repeat(41) + "hi.\n");
 * ```
 */
export function formatHexDump(
  bytes: Uint8Array,
  direction: HexDumpDirection,
  offset: number,
): string {
  let out = "";
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : ".")
      .join("");
    out += `${direction} ${(offset + at).toString(16).padStart(8, "0")}  ${
      hex.padEnd(16 * 3 - 1)
    }  ${ascii}\n`;
  }
  return out;
}

/**
 * Keeps one running offset per direction and writes dump rows to a sink (stderr by default),
 * so a script can call `dump(">", chunk)` after each write and `dump("<", chunk)` after each read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HexDumper } from "./hex_dump.ts";
 *
 * const lines: string[] = [];
 * const dumper = new HexDumper((text) => lines.push(text));
 * dumper.dump(">", new Uint8Array([1, 2]));
 * dumper.dump(">", new Uint8Array([3]));
 * assert.match(lines[1]!, /^> 00000002  03 /);
 * ```
 */
export class HexDumper {
  #write: (text: string) => void;
  #offsets = { ">": 0, "<": 0 };

  /**
   * Creates a dumper.
   *
   * @param write Where rows go; by default stderr, so stdout keeps only the data.
   */
  constructor(write: (text: string) => void = writeStderr) {
    this.#write = write;
  }

  /**
   * Dumps `bytes` as the next part of `direction`'s stream.
   *
   * @param direction `>` for sent, `<` for received.
   * @param bytes The bytes, not kept.
   */
  dump(direction: HexDumpDirection, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#write(formatHexDump(bytes, direction, this.#offsets[direction]));
    this.#offsets[direction] += bytes.length;
  }
  /**
   * Callbacks that dump what is sent (`>`) and received (`<`), in the shape
   * `echoRoundTrip` and `pipeStdio` take: `{ timeout, ...dumper.hooks }`.
   *
   * @returns `onSend` and `onReceive`, bound to this dumper.
   */
  get hooks(): HexDumpHooks {
    return {
      onSend: (bytes) => this.dump(">", bytes),
      onReceive: (bytes) => this.dump("<", bytes),
    };
  }
}

/**
 * Parses hex such as `de ad be ef`, `deadbeef` or `de:ad`, the input form of
 * binary messages on the command line.
 *
 * @param text Pairs of hex digits, optionally separated by spaces or colons.
 * @returns The bytes, or `undefined` if `text` is not hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHex } from "./hex_dump.ts";
 *
 * assert.deepEqual(parseHex("de ad:00ff"), new Uint8Array([0xde, 0xad, 0x00, 0xff]));
 * assert.equal(parseHex("xyz"), undefined);
 * ```
 */
export function parseHex(text: string): Uint8Array | undefined {
  const digits = text.replace(/[\s:]/g, "");
  if (!/^([0-9a-f]{2})*$/i.test(digits)) return undefined;
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function writeStderr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  // writeSync may write less than asked: loop until every byte is out.
  for (let done = 0; done < bytes.length;) done += Deno.stderr.writeSync(bytes.subarray(done));
}
