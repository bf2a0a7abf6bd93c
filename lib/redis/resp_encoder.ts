/**
 * Encoding Redis commands: every command is a RESP array of bulk strings,
 * whatever protocol version the server speaks.
 *
 * @module
 */

/** One argument of a command; numbers are sent as their decimal text. */
export type RedisArgument = string | number | Uint8Array;

const ENCODER = new TextEncoder();

/**
 * Encodes a command as a RESP array of bulk strings, the form Redis expects
 * from clients. Arguments are length-prefixed, so they may contain spaces,
 * line ends or any bytes.
 *
 * ```ts ignore
 * conn.write(enc.encode(`SET ${key} ${value}\r\n`)); // Bad: breaks on a space or CRLF in value
 * conn.write(encodeCommand(["SET", key, value]));      // Good: binary-safe
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCommand } from "./resp_encoder.ts";
 *
 * const bytes = encodeCommand(["SET", "nick:ann", "a b", 30]);
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   "*4\r\n$3\r\nSET\r\n$8\r\nnick:ann\r\n$3\r\na b\r\n$2\r\n30\r\n",
 * );
 * ```
 *
 * @param args The command name and its arguments.
 * @returns The encoded command.
 * @throws {TypeError} If `args` is empty or a number argument is not finite.
 */
export function encodeCommand(args: readonly RedisArgument[]): Uint8Array {
  if (args.length === 0) throw new TypeError("Cannot encode command: no arguments");
  const parts: Uint8Array[] = [ENCODER.encode(`*${args.length}\r\n`)];
  let size = parts[0]!.length;
  for (const arg of args) {
    let bytes: Uint8Array;
    if (typeof arg === "number") {
      if (!Number.isFinite(arg)) {
        throw new TypeError(`Cannot encode command: ${arg} is not a finite number`);
      }
      bytes = ENCODER.encode(String(arg));
    } else {
      bytes = typeof arg === "string" ? ENCODER.encode(arg) : arg;
    }
    const header = ENCODER.encode(`$${bytes.length}\r\n`);
    parts.push(header, bytes, CRLF);
    size += header.length + bytes.length + 2;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const CRLF = new Uint8Array([0x0d, 0x0a]);
