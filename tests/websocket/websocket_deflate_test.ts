// permessage-deflate (RFC 7692): negotiation offers, one-message compression and inflation with
// their limits, the decoder's RSV1 rules fed raw bytes in several chunkings, and a compressed
// exchange over a loopback TCP pair.
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { WebSocketConnection } from "../../lib/websocket/websocket_connection.ts";
import { WebSocketDecoder, type WebSocketEvent } from "../../lib/websocket/websocket_decoder.ts";
import {
  deflateMessage,
  inflateMessage,
  negotiatePerMessageDeflate,
  type PerMessageDeflate,
} from "../../lib/websocket/websocket_deflate.ts";
import { encodeFrame, OPCODE } from "../../lib/websocket/websocket_frame.ts";
import { WebSocketProtocolError } from "../../lib/websocket/websocket_protocol_error.ts";

const BASE = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

Deno.test("negotiatePerMessageDeflate accepts the first acceptable offer and declines the rest", () => {
  const cases: [string, string | null, string | undefined][] = [
    ["no header", null, undefined],
    ["another extension only", "x-webkit-deflate-frame", undefined],
    ["a bare offer", "permessage-deflate", BASE],
    [
      "what Chromium and python websockets offer",
      "permessage-deflate; client_max_window_bits",
      BASE,
    ],
    [
      "a requested server window is confirmed",
      "permessage-deflate; server_max_window_bits=10",
      `${BASE}; server_max_window_bits=10`,
    ],
    [
      "a quoted client window is confirmed",
      'permessage-deflate; client_max_window_bits="12"',
      `${BASE}; client_max_window_bits=12`,
    ],
    [
      "the client's own no-context-takeover flags",
      "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
      BASE,
    ],
    [
      "a server window of 8 bits cannot be honoured",
      "permessage-deflate; server_max_window_bits=8",
      undefined,
    ],
    [
      "a declined offer falls back to the next one",
      "permessage-deflate; server_max_window_bits=8, permessage-deflate",
      BASE,
    ],
    ["an unknown parameter", "permessage-deflate; x=1", undefined],
    [
      "a repeated parameter",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      undefined,
    ],
    ["a value on a flag", "permessage-deflate; server_no_context_takeover=1", undefined],
    ["a window out of range", "permessage-deflate; client_max_window_bits=16", undefined],
    ["a server window without a value", "permessage-deflate; server_max_window_bits", undefined],
    ["other extensions around it", "foo; a=1, PERMESSAGE-DEFLATE , bar", BASE],
  ];
  for (const [name, header, expected] of cases) {
    assert.equal(negotiatePerMessageDeflate(header)?.header, expected, name);
  }
});

Deno.test("negotiatePerMessageDeflate applies its window options and checks them", () => {
  const limited = negotiatePerMessageDeflate("permessage-deflate; client_max_window_bits", {
    serverMaxWindowBits: 12,
    clientMaxWindowBits: 10,
  });
  assert.equal(limited?.header, `${BASE}; server_max_window_bits=12; client_max_window_bits=10`);
  assert.deepEqual(limited?.params, {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 12,
    clientMaxWindowBits: 10,
    threshold: 1024,
    level: 1,
  });
  // A client that did not offer client_max_window_bits cannot be sent one.
  assert.equal(
    negotiatePerMessageDeflate("permessage-deflate", { clientMaxWindowBits: 10 })?.header,
    BASE,
  );
  assert.throws(() => negotiatePerMessageDeflate(null, { level: 10 }), RangeError);
  assert.throws(() => negotiatePerMessageDeflate(null, { serverMaxWindowBits: 8 }), RangeError);
  assert.throws(() => negotiatePerMessageDeflate(null, { threshold: -1 }), RangeError);
});

Deno.test("deflateMessage and inflateMessage round-trip every size and hold the limit exactly", () => {
  for (const size of [0, 1, 125, 1024, 65_536, 300_000]) {
    const data = new Uint8Array(size).map((_, i) => (i * 31) % 7);
    const compressed = deflateMessage(data);
    assert.deepEqual(inflateMessage(compressed, size), data, `size ${size}`);
    if (size > 0) {
      assert.throws(() => inflateMessage(compressed, size - 1), { closeCode: 1009 }, `${size}`);
    }
  }
  // The sync flush's empty stored block is not sent (RFC 7692 §7.2.1).
  const hello = deflateMessage(new TextEncoder().encode("Hello"));
  assert.notDeepEqual([...hello.subarray(-4)], [0, 0, 0xff, 0xff]);
  // The RFC 7692 §7.2.3.1 example: "Hello" compressed.
  assert.deepEqual(
    new TextDecoder().decode(
      inflateMessage(new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), 5),
    ),
    "Hello",
  );
});

Deno.test("inflateMessage stops a compression bomb at the limit and rejects invalid data with 1007", () => {
  // 64 MiB of zeros compress to about 64 KiB; the limit is 1 MiB.
  const bomb = deflateMessage(new Uint8Array(64 << 20), { level: 9 });
  assert.ok(bomb.length < 100_000);
  assert.throws(() => inflateMessage(bomb, 1 << 20), {
    code: "ERR_WS_MESSAGE_TOO_BIG",
    closeCode: 1009,
  });
  assert.throws(() => inflateMessage(new Uint8Array([0xff, 0xff, 0xff]), 1024), {
    code: "ERR_WS_INVALID_COMPRESSED_DATA",
    closeCode: 1007,
  });
});

Deno.test("inflateMessage rejects 1 GiB packed into about 1 MiB at the cost of the limit, not of the bomb", () => {
  // One sync-flushed block sequence for 1 MiB of zeros, repeated: a valid DEFLATE stream of
  // 1 GiB in about 1 MiB, built without ever holding the 1 GiB.
  const piece = zlib.deflateRawSync(new Uint8Array(1 << 20), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const bomb = new Uint8Array(piece.length * 1024);
  for (let i = 0; i < 1024; i++) bomb.set(piece, i * piece.length);
  assert.ok(bomb.length < 1.1 * 2 ** 20, `${bomb.length} bytes`);
  const before = Deno.memoryUsage().rss;
  assert.throws(() => inflateMessage(bomb.subarray(0, bomb.length - 4), 1 << 20), {
    closeCode: 1009,
  });
  // Inflating all of it first would have needed 1 GiB; stopping at the limit needs about 1 MiB.
  const grown = Deno.memoryUsage().rss - before;
  assert.ok(grown < 128 << 20, `RSS grew by ${grown} bytes`);
});

/** Masked frames as a client sends them; `rsv: 4` is RSV1. */
function clientFrame(opcode: number, payload: Uint8Array | string, fin = true, rsv = 0) {
  return encodeFrame(opcode, payload, { mask: true, fin, rsv });
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Decodes `bytes` cut at every `step` bytes; returns the events and the error, if any. */
function decodeInSteps(bytes: Uint8Array, step: number, maxMessageSize = 1 << 20) {
  const decoder = new WebSocketDecoder({ perMessageDeflate: true, maxMessageSize });
  const events: WebSocketEvent[] = [];
  try {
    for (let at = 0; at < bytes.length; at += step) {
      decoder.decode(bytes.subarray(at, at + step), events);
    }
  } catch (error) {
    if (!(error instanceof WebSocketProtocolError)) throw error;
    return { events, error };
  }
  return { events, error: undefined };
}

const encoder = new TextEncoder();
const TEXT = "κόσμε, compressed twice over. ".repeat(40);
const COMPRESSED_TEXT = deflateMessage(encoder.encode(TEXT));

Deno.test("WebSocketDecoder inflates compressed messages, whole and fragmented, in every chunking", () => {
  const half = Math.floor(COMPRESSED_TEXT.length / 2);
  const binary = new Uint8Array(5000).map((_, i) => i % 3);
  const stream = concatBytes([
    // A whole compressed text message.
    clientFrame(OPCODE.TEXT, COMPRESSED_TEXT, true, 4),
    // The same message in two fragments: RSV1 on the first one only, a ping between them.
    clientFrame(OPCODE.TEXT, COMPRESSED_TEXT.subarray(0, half), false, 4),
    clientFrame(OPCODE.PING, "p"),
    clientFrame(OPCODE.CONTINUATION, COMPRESSED_TEXT.subarray(half)),
    // An uncompressed message: compression is chosen per message.
    clientFrame(OPCODE.TEXT, "plain"),
    // A compressed binary message, and a compressed empty one.
    clientFrame(OPCODE.BINARY, deflateMessage(binary), true, 4),
    clientFrame(OPCODE.BINARY, deflateMessage(new Uint8Array(0)), true, 4),
  ]);
  for (const step of [1, 2, 7, 100, stream.length]) {
    const { events, error } = decodeInSteps(stream, step);
    assert.equal(error, undefined, `step ${step}`);
    assert.deepEqual(events, [
      { type: "text", data: TEXT },
      { type: "ping", data: encoder.encode("p") },
      { type: "text", data: TEXT },
      { type: "text", data: "plain" },
      { type: "binary", data: binary },
      { type: "binary", data: new Uint8Array(0) },
    ], `step ${step}`);
  }
});

Deno.test("WebSocketDecoder fails compressed traffic that breaks RFC 7692 with the right code", () => {
  const valid = clientFrame(OPCODE.TEXT, "before");
  const cases: [string, Uint8Array, number][] = [
    [
      "RSV1 on a continuation frame",
      concatBytes([
        clientFrame(OPCODE.TEXT, COMPRESSED_TEXT.subarray(0, 10), false, 4),
        clientFrame(OPCODE.CONTINUATION, COMPRESSED_TEXT.subarray(10), true, 4),
      ]),
      1002,
    ],
    ["RSV1 on a ping", clientFrame(OPCODE.PING, "p", true, 4), 1002],
    ["RSV1 on a close", clientFrame(OPCODE.CLOSE, new Uint8Array([3, 232]), true, 4), 1002],
    ["RSV2 with RSV1", clientFrame(OPCODE.TEXT, COMPRESSED_TEXT, true, 6), 1002],
    [
      "data that is not DEFLATE",
      clientFrame(OPCODE.BINARY, new Uint8Array([0xff, 0xff]), true, 4),
      1007,
    ],
    [
      "compressed text that is not UTF-8",
      clientFrame(OPCODE.TEXT, deflateMessage(new Uint8Array([0xed, 0xa0, 0x80])), true, 4),
      1007,
    ],
    [
      "a bomb beyond maxMessageSize",
      clientFrame(OPCODE.BINARY, deflateMessage(new Uint8Array(4 << 20)), true, 4),
      1009,
    ],
  ];
  for (const [name, bad, closeCode] of cases) {
    for (const step of [1, 5, 1 << 20]) {
      const { events, error } = decodeInSteps(concatBytes([valid, bad]), step, 1 << 20);
      assert.equal(error?.closeCode, closeCode, `${name}, step ${step}`);
      // The message before the bad frame is still delivered.
      assert.deepEqual(events[0], { type: "text", data: "before" }, `${name}, step ${step}`);
    }
  }
  // Without the extension, RSV1 is a protocol error like any reserved bit.
  assert.throws(
    () => new WebSocketDecoder().decode(clientFrame(OPCODE.TEXT, COMPRESSED_TEXT, true, 4)),
    { code: "ERR_WS_RESERVED_BITS", closeCode: 1002 },
  );
});

const AGREED: PerMessageDeflate = negotiatePerMessageDeflate("permessage-deflate")!.params;

Deno.test("WebSocketConnection compresses messages from the threshold up, and inflates them", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [serverConn, rawClient] = await Promise.all([
    listener.accept(),
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  ]);
  const server = new WebSocketConnection(serverConn, new ChunkReader(serverConn), {
    perMessageDeflate: AGREED,
  });
  try {
    const long = "a repetitive message ".repeat(100); // 2100 bytes
    assert.ok(server.send(long));
    assert.ok(server.send("short")); // below the 1024-byte threshold
    assert.ok(server.send(new Uint8Array(4096))); // binary too
    const random = crypto.getRandomValues(new Uint8Array(2048));
    assert.ok(server.send(random)); // incompressible: sent as it is
    // Read the raw frames: RSV1 is bit 0x40 of the first byte.
    const reader = new ChunkReader(rawClient);
    const frames: { rsv1: boolean; length: number }[] = [];
    const events: WebSocketEvent[] = [];
    const decoder = new WebSocketDecoder({ role: "client", perMessageDeflate: true });
    let pending: Uint8Array = new Uint8Array(0);
    while (events.length < 4) {
      const chunk = await reader.read();
      assert.ok(chunk !== null);
      pending = concatBytes([pending, chunk]);
      decoder.decode(chunk, events);
    }
    for (let at = 0; at < pending.length;) {
      const b1 = pending[at + 1]! & 0x7f;
      const length = b1 < 126 ? b1 : (pending[at + 2]! << 8) | pending[at + 3]!;
      frames.push({ rsv1: (pending[at]! & 0x40) !== 0, length });
      at += (b1 < 126 ? 2 : 4) + length;
    }
    assert.deepEqual(frames.map((f) => f.rsv1), [true, false, true, false]);
    assert.ok(frames[0]!.length < 100, `compressed to ${frames[0]!.length} bytes`);
    assert.deepEqual(events, [
      { type: "text", data: long },
      { type: "text", data: "short" },
      { type: "binary", data: new Uint8Array(4096) },
      { type: "binary", data: random },
    ]);
    // And the other way: the server inflates what a client compressed.
    await writeAll(rawClient, clientFrame(OPCODE.TEXT, COMPRESSED_TEXT, true, 4));
    assert.deepEqual(await server.receive(), { type: "text", data: TEXT });
  } finally {
    server.close().catch(() => {});
    rawClient.close();
    await server.closed;
  }
});

Deno.test("WebSocketConnection closes with 1009 on a compressed message that inflates past the limit", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [serverConn, rawClient] = await Promise.all([
    listener.accept(),
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  ]);
  const server = new WebSocketConnection(serverConn, new ChunkReader(serverConn), {
    perMessageDeflate: AGREED,
    maxMessageSize: 64 * 1024,
    closeTimeout: 1000,
  });
  let clientOpen = true;
  try {
    // About 16 KiB on the wire, 16 MiB inflated: only the inflated size is over the limit.
    const bomb = deflateMessage(new Uint8Array(16 << 20), { level: 9 });
    const received = server.receive();
    await writeAll(rawClient, clientFrame(OPCODE.BINARY, bomb, true, 4));
    const decoder = new WebSocketDecoder({ role: "client" });
    const events: WebSocketEvent[] = [];
    const reader = new ChunkReader(rawClient);
    while (events.length === 0) decoder.decode((await reader.read())!, events);
    assert.equal(events[0]?.type, "close");
    rawClient.close(); // instead of answering the server's Close frame
    clientOpen = false;
    assert.equal(await received, null);
    const closed = await server.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /inflated message exceeds maxMessageSize 65536/);
  } finally {
    if (clientOpen) rawClient.close();
    await server.closed;
  }
});

Deno.test("WebSocketConnection refuses parameters that need context takeover", () => {
  const conn = { setNoDelay() {} } as unknown as Deno.Conn;
  assert.throws(
    () =>
      new WebSocketConnection(conn, new ChunkReader({ read: () => Promise.resolve(null) }), {
        perMessageDeflate: { ...AGREED, clientNoContextTakeover: false },
      }),
    RangeError,
  );
});
