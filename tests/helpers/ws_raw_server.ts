/**
 * Test helper: a one-connection raw WebSocket server that answers the handshake with exactly the
 * response a test gives (right or wrong), and records the client's frames with their mask bit
 * and masking key, for checking a client's side of RFC 6455 (§5.3: every frame masked with a
 * fresh key).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { readRequestHead } from "../../lib/http/http_request_head.ts";
import { WebSocketDecoder, type WebSocketEvent } from "../../lib/websocket/websocket_decoder.ts";
import { encodeFrame, OPCODE } from "../../lib/websocket/websocket_frame.ts";
import { computeAcceptKey } from "../../lib/websocket/websocket_handshake.ts";

const encoder = new TextEncoder();

/** What a raw test server saw of the client's request and frames. */
export interface RawSeen {
  head: Headers;
  frames: { masked: boolean; key: string; event: WebSocketEvent }[];
}

/**
 * A one-connection server that answers the handshake with `answer(key)` (status line and
 * headers, without the final blank line), then, if `afterHandshake` is given, writes those bytes,
 * and records every frame the client sends until its Close.
 */
export function rawServer(
  answer: (acceptKey: string, head: Headers) => string,
  afterHandshake?: Uint8Array,
): { port: number; seen: Promise<RawSeen> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen = (async () => {
    const conn = await listener.accept();
    listener.close();
    try {
      const reader = new ChunkReader(conn);
      const request = await readRequestHead(reader, { signal: AbortSignal.timeout(10_000) });
      assert(request !== null);
      const head = request.head.headers;
      const accept = await computeAcceptKey(head.get("sec-websocket-key") ?? "");
      await writeAll(conn, encoder.encode(answer(accept, head) + "\r\n\r\n"));
      if (afterHandshake) await writeAll(conn, afterHandshake);
      const frames: RawSeen["frames"] = [];
      // Frames are parsed here byte by byte for the mask bit and key, then decoded as a
      // server decodes them (which itself refuses unmasked frames).
      let pending = request.rest.slice();
      const serverDecoder = new WebSocketDecoder({ role: "server" });
      for (;;) {
        while (pending.length < 2 || pending.length < frameLength(pending)) {
          const chunk = await reader.read();
          if (chunk === null) return { head, frames };
          const joined = new Uint8Array(pending.length + chunk.length);
          joined.set(pending);
          joined.set(chunk, pending.length);
          pending = joined;
        }
        const length = frameLength(pending);
        const frame = pending.subarray(0, length);
        const masked = (frame[1]! & 0x80) !== 0;
        const keyAt = length - payloadLength(frame) - 4;
        const key = masked ? Array.from(frame.subarray(keyAt, keyAt + 4)).join(",") : "";
        const [event] = serverDecoder.decode(frame.slice());
        assert(event !== undefined);
        frames.push({ masked, key, event });
        pending = pending.slice(length);
        if (event.type === "close") {
          await writeAll(conn, encodeFrame(OPCODE.CLOSE, new Uint8Array([0x03, 0xe8])));
          return { head, frames };
        }
      }
    } finally {
      conn.close();
    }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, seen };
}

function payloadLength(frame: Uint8Array): number {
  const short = frame[1]! & 0x7f;
  if (short < 126) return short;
  if (short === 126) return (frame[2]! << 8) | frame[3]!;
  return Number(new DataView(frame.buffer, frame.byteOffset + 2, 8).getBigUint64(0));
}

/** The whole frame's length once its header is buffered (a lower bound before that). */
function frameLength(bytes: Uint8Array): number {
  if (bytes.length < 2) return 2;
  const short = bytes[1]! & 0x7f;
  const extended = short < 126 ? 0 : short === 126 ? 2 : 8;
  const mask = bytes[1]! & 0x80 ? 4 : 0;
  if (bytes.length < 2 + extended) return 2 + extended;
  return 2 + extended + mask + payloadLength(bytes);
}

export const OK_101 = (accept: string) =>
  [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${accept}`,
  ].join("\r\n");
