import assert from "node:assert/strict";
import { datagramBenchAdvice } from "../../lib/cli/datagram_bench_advice.ts";
import { sendLines } from "../../lib/cli/udp_line_session.ts";
import { FrameTooLargeError } from "../../lib/framing/frame_errors.ts";
import { DatagramRequester } from "../../lib/udp/datagram_requester.ts";
import { decodeEchoProbe } from "../../lib/udp/echo_probe.ts";
import { serveUdp } from "../../lib/udp/serve_udp.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Collects what sendLines writes. */
function collector(): { output: { write(p: Uint8Array): Promise<number> }; text(): string } {
  let text = "";
  return {
    output: {
      write(p) {
        text += decoder.decode(p);
        return Promise.resolve(p.length);
      },
    },
    text: () => text,
  };
}

function bytes(text: string): ReadableStream<Uint8Array> {
  return ReadableStream.from([encoder.encode(text)]);
}

Deno.test("sendLines prints each echo in order, CRLF and an unterminated last line included", async () => {
  await using server = serveUdp((datagram) => datagram.slice(), { port: 0 });
  await using requester = new DatagramRequester({ hostname: "127.0.0.1", port: server.addr.port });
  const { output, text } = collector();
  // Split inside the CRLF, an empty line, and a last line without a newline.
  const input = ReadableStream.from([encoder.encode("one\r"), encoder.encode("\n\ntwo")]);
  assert.deepEqual(await sendLines(requester, input, { output }), { sent: 3, unanswered: 0 });
  assert.equal(text(), "one\n\ntwo\n");
});

Deno.test("sendLines reports a line nobody answers and goes on with the next one", async () => {
  // The server ignores the probe carrying "drop" (every try of it), and echoes the rest.
  await using server = serveUdp((datagram) => {
    const payload = decodeEchoProbe(datagram)?.payload;
    return payload && decoder.decode(payload) === "drop" ? null : datagram.slice();
  }, { port: 0 });
  await using requester = new DatagramRequester(
    { hostname: "127.0.0.1", port: server.addr.port },
    { timeout: 50, retries: 1 },
  );
  const { output, text } = collector();
  const result = await sendLines(requester, bytes("a\ndrop\nb\n"), { output });
  assert.deepEqual(result, { sent: 3, unanswered: 1 });
  assert.equal(text(), "a\nb\n");
});

Deno.test("sendLines refuses a line longer than a datagram holds after the probe header", async () => {
  await using server = serveUdp((datagram) => datagram.slice(), { port: 0 });
  await using requester = new DatagramRequester({ hostname: "127.0.0.1", port: server.addr.port });
  const { output } = collector();
  await assert.rejects(
    sendLines(requester, bytes("x".repeat(65_492) + "\n"), { output }),
    FrameTooLargeError,
  );
});

Deno.test("datagramBenchAdvice says nothing without loss, a note for some and an error for all", () => {
  const target = "127.0.0.1:7001";
  assert.deepEqual(datagramBenchAdvice({ target, roundTrips: 10, lost: 0 }, 1), []);
  assert.deepEqual(datagramBenchAdvice({ target, roundTrips: 10, lost: 1 }, 0.5), [
    "note: 1 datagram got no echo within 0.5 s; a rate-limited server drops the excess " +
    "(udp_echo_server.ts allows 10000/s per source: start it with --rate 0)",
  ]);
  const all = datagramBenchAdvice({ target, roundTrips: 0, lost: 4 }, 1);
  assert.equal(all.length, 2);
  assert.equal(
    all[1],
    "error: no echo from 127.0.0.1:7001: is the server running? (if so, it may be dropping " +
      "for its rate limit: start udp_echo_server.ts with --rate 0)",
  );
});
