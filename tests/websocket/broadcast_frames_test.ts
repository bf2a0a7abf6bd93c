// BroadcastFrames without sockets: which frame each kind of connection gets, and how many times
// a message is compressed for a fan-out.
import assert from "node:assert/strict";
import { BroadcastFrames } from "../../lib/websocket/broadcast_frames.ts";
import {
  inflateMessage,
  negotiatePerMessageDeflate,
  type PerMessageDeflate,
} from "../../lib/websocket/websocket_deflate.ts";
import { WebSocketDecoder } from "../../lib/websocket/websocket_decoder.ts";

function agreed(offer: string, options = {}): PerMessageDeflate {
  return negotiatePerMessageDeflate(offer, options)!.params;
}

/** The payload of a single unmasked server frame with a 16-bit or shorter length. */
function payloadOf(frame: Uint8Array): Uint8Array {
  const short = frame[1]! & 0x7f;
  return short < 126 ? frame.subarray(2) : frame.subarray(4);
}

Deno.test("BroadcastFrames compresses a message once for many connections with the same parameters", () => {
  const deflate = agreed("permessage-deflate; client_max_window_bits");
  const text = "κόσμε chat line ".repeat(300);
  const frames = new BroadcastFrames(text);
  const sent = Array.from({ length: 100 }, () => frames.frameFor(deflate));
  assert.equal(frames.deflateCount, 1);
  assert.ok(sent.every((frame) => frame === sent[0]));
  assert.equal(sent[0]![0], 0xc1, "FIN, RSV1 and the text opcode");
  const inflated = inflateMessage(payloadOf(sent[0]!), 1 << 20);
  assert.equal(new TextDecoder().decode(inflated), text);
  // A client decoder that negotiated the extension reads the same frame as the message.
  const decoder = new WebSocketDecoder({ role: "client", perMessageDeflate: true });
  assert.deepEqual(decoder.decode(sent[0]!), [{ type: "text", data: text }]);
});

Deno.test("BroadcastFrames gives plain connections the plain frame, encoded once", () => {
  const frames = new BroadcastFrames(new Uint8Array(5000).fill(7));
  const plain = frames.frameFor(undefined);
  assert.equal(plain[0], 0x82, "FIN and the binary opcode, no RSV1");
  assert.equal(frames.frameFor(undefined), plain);
  assert.equal(frames.deflateCount, 0);
  assert.equal(frames.frameFor(agreed("permessage-deflate"))[0], 0xc2);
});

Deno.test("BroadcastFrames sends messages below the threshold, or that do not shrink, uncompressed", () => {
  const deflate = agreed("permessage-deflate", { threshold: 100 });
  // Rows: [message, why it stays plain]
  const rows: [string | Uint8Array, string][] = [
    ["x".repeat(99), "one byte below the threshold"],
    ["é".repeat(40), "80 bytes of UTF-8 from 40 UTF-16 units: below 100"],
    [crypto.getRandomValues(new Uint8Array(4096)), "random bytes do not compress"],
  ];
  for (const [message, why] of rows) {
    const frames = new BroadcastFrames(message);
    assert.equal(frames.frameFor(deflate), frames.frameFor(undefined), why);
  }
  const atThreshold = new BroadcastFrames("x".repeat(100));
  assert.equal(atThreshold.frameFor(deflate)[0], 0xc1, "exactly the threshold is compressed");
});

Deno.test("BroadcastFrames compresses once per window size when connections agreed different ones", () => {
  const wide = agreed("permessage-deflate");
  const narrow = agreed("permessage-deflate; server_max_window_bits=10");
  assert.equal(narrow.serverMaxWindowBits, 10);
  const frames = new BroadcastFrames("abc".repeat(2000));
  frames.frameFor(wide);
  frames.frameFor(narrow);
  frames.frameFor(wide);
  frames.frameFor(narrow);
  assert.equal(frames.deflateCount, 2);
});
