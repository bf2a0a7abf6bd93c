/**
 * The terminal side of a WebSocket client tool (`scripts/ws_client.ts`): how a
 * message is printed (escape sequences stripped, binary as a hex preview, an
 * optional `< ` mark and hex dump), the one-shot mode (send one message, print
 * N replies or all within a time, then close), and the session mode (stdin
 * lines out, every message in, `/ping` with the library's client).
 *
 * @module
 */

import { sanitizeText } from "../chat/sanitize_text.ts";
import { LineDecoder } from "../framing/line_decoder.ts";
import { onFirstInterrupt } from "../net/shutdown_signals.ts";
import type { ClientSocket, CloseInfo } from "../websocket/client_socket.ts";
import { OPCODE } from "../websocket/websocket_frame.ts";
import { type HexDumper, parseHex } from "./hex_dump.ts";

const encoder = new TextEncoder();

/** How messages are shown and sent. */
export interface Display {
  /** Prefix received messages with `< ` (interactive use). */
  marked: boolean;
  /** Parse outgoing lines as hex. */
  binary: boolean;
  /** Dumps every message's bytes (`> ` sent, `< ` received), or `undefined` for none. */
  dumper: HexDumper | undefined;
}

/**
 * A received message as one printable line (or several, for text with newlines).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeMessage } from "./ws_client_session.ts";
 *
 * assert.equal(describeMessage("esc \x1b[31mred"), "esc red");
 * assert.equal(describeMessage(new Uint8Array([1, 2])), "<binary 2 bytes: 01 02>");
 * ```
 *
 * @param data The message.
 * @returns Text without terminal escapes, or a hex preview of binary data.
 */
export function describeMessage(data: string | Uint8Array): string {
  if (typeof data === "string") return data.split("\n").map(sanitizeText).join("\n");
  const hex = Array.from(data.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return `<binary ${data.length} bytes: ${hex}${data.length > 16 ? " ..." : ""}>`;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Prints a Ping or Pong as `< ping PAYLOAD`, the payload as text or else as hex.
 *
 * @param opcode `OPCODE.PING` or `OPCODE.PONG`.
 * @param data The payload.
 * @param display Where the hex dump goes.
 */
export function showControl(opcode: number, data: Uint8Array, display: Display): void {
  let text: string;
  try {
    text = sanitizeText(strictDecoder.decode(data));
  } catch {
    text = Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(" ");
  }
  const name = opcode === OPCODE.PING ? "ping" : "pong";
  display.dumper?.dump("<", data);
  console.log(`< ${name}${text ? ` ${text}` : ""}`);
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

function show(data: string | Uint8Array, display: Display): void {
  display.dumper?.dump("<", bytesOf(data));
  console.log(`${display.marked ? "< " : ""}${describeMessage(data)}`);
}

function send(ws: ClientSocket, data: string | Uint8Array, display: Display): void {
  display.dumper?.dump(">", bytesOf(data));
  ws.send(data);
}

/** Options for {@linkcode sendOne}. */
export interface SendOneOptions {
  /** Replies to print before closing. */
  count: number;
  /** Print replies for this long (ms), then close normally. */
  wait: number | undefined;
  /** Without `wait`: fail if `count` replies did not come within this long (ms). */
  timeout: number;
}

/**
 * `--message` / `--file`: sends one message, prints the replies as asked, and closes.
 *
 * @param ws The connection.
 * @param payload The message.
 * @param options How many replies to wait for, and for how long.
 * @param display How to print them.
 * @returns The exit code: 0 when the replies came (or `wait` ended), 1 otherwise.
 */
export async function sendOne(
  ws: ClientSocket,
  payload: string | Uint8Array,
  options: SendOneOptions,
  display: Display,
): Promise<number> {
  let replies = 0;
  let done = false;
  const { promise: finished, resolve: finish } = Promise.withResolvers<number>();
  ws.listen((data) => {
    if (replies >= options.count) return;
    show(data, display);
    if (++replies >= options.count) finish(0);
  }).then((event) => {
    if (done) return; // we closed it ourselves
    console.error(`closed by the server: ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
    finish(replies >= options.count || event.code === 1000 ? (replies > 0 ? 0 : 1) : 1);
  }).catch((error) => {
    console.error(`error: ${error.message}`);
    finish(1);
  });
  const timer = options.wait !== undefined
    ? setTimeout(() => finish(0), options.wait)
    : setTimeout(() => {
      console.error(
        `error: got ${replies} of ${options.count} ${
          options.count === 1 ? "reply" : "replies"
        } within ${options.timeout / 1000} s` +
          ` (--timeout sets the limit; --wait SECONDS prints whatever comes and exits 0)`,
      );
      finish(1);
    }, options.timeout);
  const stopListening = onFirstInterrupt(() => finish(0));
  send(ws, payload, display);
  if (options.count === 0 && options.wait === undefined) finish(0);
  const code = await finished;
  done = true;
  clearTimeout(timer);
  stopListening();
  await ws.close();
  return code;
}

/**
 * Interactive and pipe modes: stdin lines out, every message in printed, Close 1000 at the end
 * of stdin or on Ctrl+C.
 *
 * @param ws The connection.
 * @param url Its URL, for the "connected" line.
 * @param display How to print messages and read lines.
 * @param quiet Leave out the "connected" line.
 * @returns The exit code: 0 after a normal close, 1 when the server closed with an error.
 */
export async function session(
  ws: ClientSocket,
  url: string,
  display: Display,
  quiet: boolean,
): Promise<number> {
  const { promise: interrupted, resolve: resolveInterrupted } = Promise.withResolvers<CloseInfo>();
  let weClosed = false;
  const closed = ws.listen((data) => show(data, display));
  // Ctrl+C: say goodbye with Close 1000 instead of dropping the connection, and exit even if
  // the server never answers the Close.
  const stopListening = onFirstInterrupt(() => {
    weClosed = true;
    ws.close().then(() => resolveInterrupted({ code: 1000, reason: "" }));
  });
  if (!quiet) {
    console.error(
      `connected to ${url}${
        display.marked ? ": type a line and press Enter (received messages start with <)" : ""
      }`,
    );
  }
  // Stdin is read in the background; at its end we close, and the replies to everything
  // sent still arrive first because the server answers our Close after them.
  sendLines(ws, display).then(() => {
    weClosed = true;
    if (ws.isOpen()) ws.startClose();
  }).catch((error) => console.error(`error: ${error.message}`));
  const event = await Promise.race([closed, interrupted]).finally(stopListening);
  if (weClosed && (event.code === 1000 || event.code === 1005)) return 0;
  console.error(`closed by the server: ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
  return event.code === 1000 || event.code === 1001 ? 0 : 1;
}

/** `/ping` or `/ping TEXT` with --show-ping: the Ping's payload, or `undefined` for a message. */
function pingCommand(line: string): string | undefined {
  const match = line.match(/^\/ping(?: (.*))?$/);
  return match ? match[1] ?? "" : undefined;
}

async function sendLines(ws: ClientSocket, display: Display): Promise<void> {
  const decoder = new LineDecoder();
  const buffer = new Uint8Array(65_536);
  const sendLine = (line: string) => {
    const pingText = ws.ping && pingCommand(line);
    if (pingText !== undefined) {
      const payload = encoder.encode(pingText);
      if (payload.length > 125) {
        console.error(`not sent: a ping carries at most 125 bytes, not ${payload.length}`);
        return;
      }
      display.dumper?.dump(">", payload);
      if (display.marked) console.log(`> ping${pingText ? ` ${pingText}` : ""}`);
      return ws.ping!(payload);
    }
    if (!display.binary) return send(ws, line, display);
    const bytes = parseHex(line);
    if (bytes === undefined) console.error(`not sent: ${JSON.stringify(line)} is not hex`);
    else send(ws, bytes, display);
  };
  for (let n; (n = await Deno.stdin.read(buffer)) !== null;) {
    decoder.push(buffer.subarray(0, n));
    for (let line; (line = decoder.next()) !== null;) {
      if (!ws.isOpen()) return;
      sendLine(line);
    }
  }
  decoder.end();
  for (let line; (line = decoder.next()) !== null;) {
    if (ws.isOpen()) sendLine(line);
  }
}
