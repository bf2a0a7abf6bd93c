/**
 * The stdin mode of the UDP client (`scripts/udp_client.ts`): each input line goes out as one
 * echo probe (a 16-byte header, then the line), resent by a {@linkcode DatagramRequester}
 * until its reply comes, so replies print in order even when datagrams are lost, duplicated
 * or reordered. A line that gets no reply after every try is reported and skipped.
 *
 * @module
 */

import { formatCount } from "./format_count.ts";
import { LineDecoderStream } from "../framing/line_decoder.ts";
import { writeAll, type Writer } from "../io/write_all.ts";
import { type DatagramRequester, DatagramTimeoutError } from "../udp/datagram_requester.ts";
import {
  decodeEchoProbe,
  ECHO_PROBE_HEADER_SIZE,
  encodeEchoProbe,
  MAX_UDP_PAYLOAD,
} from "../udp/echo_probe.ts";

/** Options for {@linkcode sendLines}. */
export interface SendLinesOptions {
  /**
   * Where each reply's text is written, followed by a newline.
   *
   * @default {Deno.stdout}
   */
  output?: Writer;
}

/** What {@linkcode sendLines} returns once the input has ended. */
export interface SendLinesResult {
  /** Lines sent. */
  sent: number;
  /** Lines that got no reply after every try. */
  unanswered: number;
}

/**
 * Sends each line of `input` to an echo server as one datagram and writes the replies, in
 * order. Ctrl+C in the middle says how far it got on stderr and exits the process (0 when every
 * line sent so far was answered, else 1): a read of stdin cannot be abandoned.
 *
 * @param requester The socket to the echo server; its timeout and retries apply to each line.
 * @param input The bytes to split into lines (LF or CRLF), usually `Deno.stdin.readable`.
 * @param options Where the replies go.
 * @returns How many lines were sent, and how many of them got no reply.
 * @throws {FrameTooLargeError} If a line is longer than a datagram can carry after the header.
 * @throws {Error} If sending fails.
 *
 * @example Two lines to a local echo server
 * ```ts
 * import { sendLines } from "./udp_line_session.ts";
 * import { serveUdp } from "../udp/serve_udp.ts";
 * import { DatagramRequester } from "../udp/datagram_requester.ts";
 * import assert from "node:assert/strict";
 *
 * const server = serveUdp((datagram) => datagram.slice(), { port: 0 });
 * const requester = new DatagramRequester({ hostname: "127.0.0.1", port: server.addr.port });
 * let printed = "";
 * const output = {
 *   write: (p: Uint8Array) => (printed += new TextDecoder().decode(p), Promise.resolve(p.length)),
 * };
 * const input = ReadableStream.from([new TextEncoder().encode("hello\nworld\n")]);
 * const result = await sendLines(requester, input, { output });
 * assert.deepEqual(result, { sent: 2, unanswered: 0 });
 * assert.equal(printed, "hello\nworld\n");
 * await requester.close();
 * await server.shutdown();
 * ```
 */
export async function sendLines(
  requester: DatagramRequester,
  input: ReadableStream<Uint8Array>,
  options: SendLinesOptions = {},
): Promise<SendLinesResult> {
  const output = options.output ?? Deno.stdout;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const lines = input.pipeThrough(
    new LineDecoderStream({ maxLineLength: MAX_UDP_PAYLOAD - ECHO_PROBE_HEADER_SIZE }),
  );
  let sent = 0;
  let unanswered = 0;
  // Ctrl+C in the middle of a wait: say how far we got, then stop.
  const onSigint = () => {
    console.error(`interrupted: ${formatCount(sent, "line")} sent, ${sent - unanswered} answered`);
    Deno.exit(unanswered > 0 ? 1 : 0);
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    for await (const line of lines) {
      const seq = ++sent;
      try {
        const reply = await requester.request(
          seq,
          encodeEchoProbe(seq, { payload: encoder.encode(line) }),
        );
        const text = decoder.decode(decodeEchoProbe(reply.data)?.payload) + "\n";
        await writeAll(output, encoder.encode(text));
      } catch (error) {
        if (!(error instanceof DatagramTimeoutError)) throw error;
        unanswered++;
        console.error(`error: line ${seq}: ${error.message}`);
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
  return { sent, unanswered };
}
