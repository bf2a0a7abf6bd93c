// Benchmarks of the WebSocket codec, without sockets: decode throughput (MB/s) for one large
// message cut into chunks of 1 byte to 64 KiB, and frames/s for small messages, the server's
// common case. Run: deno bench scripts/bench/websocket_codec_bench.ts
import { WebSocketDecoder, type WebSocketEvent } from "../../lib/websocket/websocket_decoder.ts";
import { encodeFrame, OPCODE } from "../../lib/websocket/websocket_frame.ts";
import { deflateMessage, inflateMessage } from "../../lib/websocket/websocket_deflate.ts";

const MESSAGE_SIZE = 1024 * 1024;
const binaryFrame = encodeFrame(
  OPCODE.BINARY,
  new Uint8Array(MESSAGE_SIZE).map((_, i) => i & 0xff),
  { mask: true },
);
const textFrame = encodeFrame(OPCODE.TEXT, "κόσμε ".repeat(MESSAGE_SIZE / 12), { mask: true });

/** Feeds `frame` in `chunkSize` pieces; one call per bench iteration. */
function decodeInChunks(frame: Uint8Array, chunkSize: number): void {
  const decoder = new WebSocketDecoder({ maxMessageSize: 2 * MESSAGE_SIZE });
  const events: WebSocketEvent[] = [];
  for (let at = 0; at < frame.length; at += chunkSize) {
    decoder.decode(frame.subarray(at, at + chunkSize), events);
  }
  if (events.length !== 1) throw new Error("Cannot bench: the message did not decode");
}

// Deno reports time per iteration; MB/s = 1.05 MB / that time. 1-byte chunks use a smaller
// message so one iteration stays short.
const small = encodeFrame(OPCODE.BINARY, new Uint8Array(64 * 1024), { mask: true });
Deno.bench("decode 64 KiB binary in 1-byte chunks", { group: "chunks" }, () => {
  decodeInChunks(small, 1);
});
for (const chunkSize of [16, 256, 4096, 65_536]) {
  Deno.bench(`decode 1 MiB binary in ${chunkSize}-byte chunks`, { group: "chunks" }, () => {
    decodeInChunks(binaryFrame, chunkSize);
  });
}
Deno.bench("decode 1 MiB UTF-8 text in 64 KiB chunks", { group: "chunks" }, () => {
  decodeInChunks(textFrame, 65_536);
});

// 1000 small text frames in one chunk, as many clients pipelining 64-byte messages send them.
const SMALL_FRAMES = 1000;
const batch = (() => {
  const one = encodeFrame(OPCODE.TEXT, "x".repeat(64), { mask: true });
  const all = new Uint8Array(one.length * SMALL_FRAMES);
  for (let i = 0; i < SMALL_FRAMES; i++) all.set(one, i * one.length);
  return all;
})();
const smallDecoder = new WebSocketDecoder();
Deno.bench("decode 1000 64-byte text frames (frames/s = 1000 / time)", { group: "frames" }, () => {
  const events = smallDecoder.decode(batch);
  if (events.length !== SMALL_FRAMES) throw new Error("Cannot bench: frames lost");
});
Deno.bench("encode 1000 64-byte text frames (server, unmasked)", { group: "frames" }, () => {
  const text = "x".repeat(64);
  for (let i = 0; i < SMALL_FRAMES; i++) encodeFrame(OPCODE.TEXT, text);
});

// permessage-deflate: one chat-like JSON message compressed and inflated on its own, as this
// library does (no context takeover). Compare with the 64-byte frames above: this is the cost
// per message that compression adds on the server's thread.
const JSON_MESSAGE = new TextEncoder().encode(
  JSON.stringify(
    Array.from({ length: 200 }, (_, i) => ({ id: i, user: `user${i % 7}`, text: `message ${i}` })),
  ),
); // 9181 bytes; level 1 makes 1882 of them, level 6 1219
const COMPRESSED_JSON = deflateMessage(JSON_MESSAGE);
for (const level of [1, 6]) {
  Deno.bench(`deflate an 8 KiB JSON message at level ${level}`, { group: "deflate" }, () => {
    deflateMessage(JSON_MESSAGE, { level });
  });
}
Deno.bench("inflate the same 8 KiB JSON message", { group: "deflate" }, () => {
  inflateMessage(COMPRESSED_JSON, 1 << 20);
});
