// Socket-free tests of the WebSocket frame decoder: RFC 6455 §5.7 vectors, chunkings, limits and
// the Autobahn TestSuite categories 1-7 at the codec level.
import assert from "node:assert/strict";
import {
  WebSocketDecoder,
  type WebSocketDecoderOptions,
  type WebSocketEvent,
} from "../../lib/websocket/websocket_decoder.ts";
import {
  encodeFrame,
  type EncodeFrameOptions,
  OPCODE,
} from "../../lib/websocket/websocket_frame.ts";
import { encodeClosePayload } from "../../lib/websocket/websocket_close.ts";
import { WebSocketProtocolError } from "../../lib/websocket/websocket_protocol_error.ts";

const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/** A masked client frame, as a server receives it. */
function client(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: EncodeFrameOptions = {},
): Uint8Array {
  return encodeFrame(opcode, payload, { mask: MASK, ...options });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets].sort((a, b) => a - b)) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/**
 * The chunkings every stream is decoded with: whole, 1-byte chunks, every single cut and a few
 * random multi-cuts. Long inputs get every cut within the first and last 20 bytes (the headers).
 */
function chunkings(bytes: Uint8Array): { name: string; chunks: Uint8Array[] }[] {
  const result = [
    { name: "one chunk", chunks: [bytes] },
    { name: "1-byte chunks", chunks: Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)) },
  ];
  for (let i = 1; i < bytes.length; i++) {
    if (bytes.length > 300 && i > 20 && i < bytes.length - 20 && i % 97 !== 0) continue;
    result.push({ name: `cut at ${i}`, chunks: cut(bytes, [i]) });
  }
  let seed = bytes.length;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let r = 0; r < 5 && bytes.length > 2; r++) {
    const offsets = Array.from({ length: 4 }, () => 1 + Math.floor(random() * (bytes.length - 1)));
    result.push({ name: `cuts at ${offsets}`, chunks: cut(bytes, offsets) });
  }
  return result;
}

/** Decodes `bytes` with every chunking and asserts the same events each time. */
function assertDecodes(
  bytes: Uint8Array,
  expected: WebSocketEvent[],
  options?: WebSocketDecoderOptions,
): void {
  for (const { name, chunks } of chunkings(bytes)) {
    const decoder = new WebSocketDecoder(options);
    const events: WebSocketEvent[] = [];
    for (const chunk of chunks) decoder.decode(chunk, events);
    assert.deepEqual(events, expected, name);
  }
}

/**
 * Decodes `bytes` with every chunking and asserts the protocol error, the close code, and that
 * the events before the error were still delivered.
 */
function assertFails(
  bytes: Uint8Array,
  code: string,
  closeCode: number,
  before: WebSocketEvent[] = [],
  options?: WebSocketDecoderOptions,
): void {
  for (const { name, chunks } of chunkings(bytes)) {
    const decoder = new WebSocketDecoder(options);
    const events: WebSocketEvent[] = [];
    let error: unknown;
    try {
      for (const chunk of chunks) decoder.decode(chunk, events);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof WebSocketProtocolError, `${name}: expected an error, got ${error}`);
    assert.equal(error.code, code, name);
    assert.equal(error.closeCode, closeCode, name);
    assert.deepEqual(events, before, name);
    assert.equal(decoder.state, "failed");
    assert.throws(() => decoder.decode(new Uint8Array(1)), { code }, "the error sticks");
  }
}

const text = (data: string): WebSocketEvent => ({ type: "text", data });
const binary = (data: Uint8Array): WebSocketEvent => ({ type: "binary", data });
const encoder = new TextEncoder();

Deno.test("WebSocketDecoder decodes the RFC 6455 §5.7 example frames", () => {
  const hello = [0x48, 0x65, 0x6c, 0x6c, 0x6f];
  const maskedHello = [0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
  const server = { role: "client" } as const; // frames a server sends, decoded by a client
  // A single-frame unmasked text message.
  assertDecodes(new Uint8Array([0x81, 0x05, ...hello]), [text("Hello")], server);
  // A single-frame masked text message.
  assertDecodes(new Uint8Array([0x81, 0x85, ...maskedHello]), [text("Hello")]);
  // A fragmented unmasked text message.
  assertDecodes(
    new Uint8Array([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]),
    [text("Hello")],
    server,
  );
  // Unmasked Ping and masked Pong, both carrying "Hello".
  assertDecodes(new Uint8Array([0x89, 0x05, ...hello]), [{
    type: "ping",
    data: new Uint8Array(hello),
  }], server);
  assertDecodes(new Uint8Array([0x8a, 0x85, ...maskedHello]), [{
    type: "pong",
    data: new Uint8Array(hello),
  }]);
  // 256 bytes of binary data in a single unmasked frame (16-bit length).
  const b256 = new Uint8Array(256).map((_, i) => i);
  assertDecodes(new Uint8Array([0x82, 0x7e, 0x01, 0x00, ...b256]), [binary(b256)], server);
  // 64 KiB of binary data in a single unmasked frame (64-bit length).
  const b64k = new Uint8Array(65536).map((_, i) => i * 7);
  assertDecodes(
    concat(new Uint8Array([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]), b64k),
    [binary(b64k)],
    server,
  );
});

Deno.test("WebSocketDecoder decodes every payload length class (Autobahn 1.1, 1.2)", () => {
  for (const length of [0, 1, 125, 126, 127, 128, 65535, 65536]) {
    const data = new Uint8Array(length).map((_, i) => (i * 31) & 0xff);
    const chars = "*".repeat(length);
    assertDecodes(client(OPCODE.BINARY, data), [binary(data)]);
    assertDecodes(client(OPCODE.TEXT, chars), [text(chars)]);
  }
});

Deno.test("WebSocketDecoder decodes several frames in one chunk and empty frames", () => {
  const bytes = concat(
    client(OPCODE.TEXT, ""), // empty text
    client(OPCODE.BINARY), // empty binary
    client(OPCODE.TEXT, "a"),
    client(OPCODE.PING),
    client(OPCODE.BINARY, new Uint8Array([1, 2])),
  );
  assertDecodes(bytes, [
    text(""),
    binary(new Uint8Array(0)),
    text("a"),
    { type: "ping", data: new Uint8Array(0) },
    binary(new Uint8Array([1, 2])),
  ]);
});

Deno.test("WebSocketDecoder handles pings of 0 and 125 bytes and rejects 126 (Autobahn 2)", () => {
  const p125 = new Uint8Array(125).fill(0xfe);
  assertDecodes(client(OPCODE.PING), [{ type: "ping", data: new Uint8Array(0) }]);
  assertDecodes(client(OPCODE.PING, p125), [{ type: "ping", data: p125 }]);
  assertDecodes(client(OPCODE.PONG, "unsolicited"), [{
    type: "pong",
    data: encoder.encode("unsolicited"),
  }]);
  assertFails(client(OPCODE.PING, new Uint8Array(126)), "ERR_WS_CONTROL_FRAME_TOO_BIG", 1002);
  // A 16-bit length of 125 is still a length field saying "126": rejected on the first 2 bytes.
  assertFails(
    new Uint8Array([0x89, 0xfe, 0x00, 0x7d]),
    "ERR_WS_CONTROL_FRAME_TOO_BIG",
    1002,
  );
  // A fragmented ping: FIN clear on a control frame.
  assertFails(client(OPCODE.PING, "a", { fin: false }), "ERR_WS_FRAGMENTED_CONTROL_FRAME", 1002);
});

Deno.test("WebSocketDecoder rejects reserved bits after delivering earlier frames (Autobahn 3)", () => {
  for (let rsv = 1; rsv <= 7; rsv++) {
    for (const opcode of [OPCODE.TEXT, OPCODE.BINARY, OPCODE.PING, OPCODE.CLOSE]) {
      const bytes = concat(client(OPCODE.TEXT, "ok"), client(opcode, "", { rsv }));
      assertFails(bytes, "ERR_WS_RESERVED_BITS", 1002, [text("ok")]);
    }
  }
});

Deno.test("WebSocketDecoder rejects reserved opcodes 3-7 and 11-15 (Autobahn 4)", () => {
  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    const bytes = concat(client(OPCODE.TEXT, "ok"), client(opcode, "x"), client(OPCODE.PING));
    assertFails(bytes, "ERR_WS_UNKNOWN_OPCODE", 1002, [text("ok")]);
  }
});

Deno.test("WebSocketDecoder reassembles fragments with control frames between them (Autobahn 5)", () => {
  const bytes = concat(
    client(OPCODE.TEXT, "frag", { fin: false }),
    client(OPCODE.PING, "p"),
    client(OPCODE.CONTINUATION, "", { fin: false }), // empty fragment
    client(OPCODE.PONG, "q"),
    client(OPCODE.CONTINUATION, "ment"),
    client(OPCODE.BINARY, new Uint8Array([1]), { fin: false }),
    client(OPCODE.CONTINUATION, new Uint8Array([2, 3])),
  );
  assertDecodes(bytes, [
    { type: "ping", data: encoder.encode("p") },
    { type: "pong", data: encoder.encode("q") },
    text("fragment"),
    binary(new Uint8Array([1, 2, 3])),
  ]);
  // A message in one fragment per byte.
  const many = concat(
    client(OPCODE.TEXT, "a", { fin: false }),
    ...Array.from("bcdefghij", (c) => client(OPCODE.CONTINUATION, c, { fin: false })),
    client(OPCODE.CONTINUATION, "k"),
  );
  assertDecodes(many, [text("abcdefghijk")]);
});

Deno.test("WebSocketDecoder rejects fragments out of order (Autobahn 5)", () => {
  // A continuation with nothing to continue, with and without FIN.
  assertFails(client(OPCODE.CONTINUATION, "x"), "ERR_WS_UNEXPECTED_CONTINUATION", 1002);
  assertFails(
    client(OPCODE.CONTINUATION, "x", { fin: false }),
    "ERR_WS_UNEXPECTED_CONTINUATION",
    1002,
  );
  // A continuation after a finished message.
  assertFails(
    concat(client(OPCODE.TEXT, "done"), client(OPCODE.CONTINUATION, "x")),
    "ERR_WS_UNEXPECTED_CONTINUATION",
    1002,
    [text("done")],
  );
  // A new text frame inside a fragmented message.
  assertFails(
    concat(client(OPCODE.TEXT, "a", { fin: false }), client(OPCODE.TEXT, "b")),
    "ERR_WS_EXPECTED_CONTINUATION",
    1002,
  );
  // A binary frame inside a fragmented text message, after an interleaved ping.
  assertFails(
    concat(
      client(OPCODE.TEXT, "a", { fin: false }),
      client(OPCODE.PING),
      client(OPCODE.BINARY, "b", { fin: false }),
    ),
    "ERR_WS_EXPECTED_CONTINUATION",
    1002,
    [{ type: "ping", data: new Uint8Array(0) }],
  );
});

// Valid and invalid UTF-8 from the Autobahn 6.x cases (Markus Kuhn's test file).
const VALID_UTF8 = [
  "κόσμε",
  "Hello-µ@ßöäüàá-UTF-8!!",
  "\u0080\u07ff\u0800\uffff",
  "\u{10000}\u{10ffff}",
  "\ud7ff\ue000\ufffd",
  "\ufeffleading BOM kept",
];
const INVALID_UTF8 = [
  [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65], // surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0xaf], // overlong "/"
  [0x80], // lone continuation byte
  [0xfe], // never valid
  [0x68, 0x65, 0xce], // cut inside the last character
  [0xf0, 0x9f, 0x98], // cut emoji
];

Deno.test("WebSocketDecoder accepts valid UTF-8 split at every byte across fragments (Autobahn 6)", () => {
  for (const value of VALID_UTF8) {
    const bytes = encoder.encode(value);
    assertDecodes(client(OPCODE.TEXT, bytes), [text(value)]);
    for (let split = 0; split <= bytes.length; split++) {
      const frames = concat(
        client(OPCODE.TEXT, bytes.subarray(0, split), { fin: false }),
        client(OPCODE.CONTINUATION, bytes.subarray(split)),
      );
      assertDecodes(frames, [text(value)]);
    }
    // One fragment per byte.
    const perByte = concat(
      client(OPCODE.TEXT, bytes.subarray(0, 1), { fin: false }),
      ...Array.from(
        bytes.subarray(1),
        (b, i) => client(OPCODE.CONTINUATION, new Uint8Array([b]), { fin: i === bytes.length - 2 }),
      ),
    );
    assertDecodes(perByte, [text(value)]);
  }
});

Deno.test("WebSocketDecoder rejects invalid UTF-8 whole and split at every byte (Autobahn 6)", () => {
  for (const invalid of INVALID_UTF8) {
    const bytes = new Uint8Array(invalid);
    assertFails(client(OPCODE.TEXT, bytes), "ERR_WS_INVALID_UTF8", 1007);
    for (let split = 0; split <= bytes.length; split++) {
      const frames = concat(
        client(OPCODE.TEXT, bytes.subarray(0, split), { fin: false }),
        client(OPCODE.CONTINUATION, bytes.subarray(split)),
      );
      assertFails(frames, "ERR_WS_INVALID_UTF8", 1007);
    }
  }
});

Deno.test("WebSocketDecoder judges whole texts of every length like a fatal TextDecoder", () => {
  // Short ASCII, longer text and invalid bytes go three different ways; each must agree with
  // the standard decoder: the same string, or 1007 where it throws.
  const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const pad = "a".repeat(200);
  const cases: Uint8Array[] = [
    ...VALID_UTF8.flatMap((value) => [value, pad + value, value + pad]).map((v) =>
      encoder.encode(v)
    ),
    ...INVALID_UTF8.flatMap((bytes) => [
      new Uint8Array(bytes),
      encoder.encode(pad).map((_, i, all) => i < bytes.length ? bytes[i]! : all[i]!),
      new Uint8Array([...encoder.encode(pad), ...bytes]),
      new Uint8Array([...bytes, ...encoder.encode(pad)]),
    ]),
    encoder.encode("x".repeat(128)),
    encoder.encode("x".repeat(129)),
    new Uint8Array([...encoder.encode("x".repeat(127)), 0x80]),
  ];
  // And random text, mostly ASCII, from a fixed seed; every other one with one byte changed.
  let seed = 42;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * below);
  };
  const CODE_POINTS = [0x7f, 0x7ff, 0xd7ff, 0xffff, 0x10ffff];
  for (let n = 0; n < 500; n++) {
    const chars = Array.from({ length: random(300) }, () => {
      const point = random(10) < 8 ? random(128) : random(CODE_POINTS[random(5)]!);
      return String.fromCodePoint(point >= 0xd800 && point < 0xe000 ? 0x41 : point);
    });
    const bytes = encoder.encode(chars.join(""));
    if (n % 2 === 1 && bytes.length > 0) bytes[random(bytes.length)] = random(256);
    cases.push(bytes);
  }
  let valid = 0;
  for (const bytes of cases) {
    let expected: string | undefined;
    try {
      expected = fatal.decode(bytes);
    } catch {
      expected = undefined;
    }
    const frame = client(OPCODE.TEXT, bytes);
    if (expected === undefined) {
      assert.throws(() => new WebSocketDecoder().decode(frame), { closeCode: 1007 });
    } else {
      valid++;
      assert.deepEqual(new WebSocketDecoder().decode(frame), [text(expected)]);
    }
  }
  // Both outcomes were exercised (360 of 553 valid with this seed).
  assert.ok(valid > 100 && valid < cases.length - 100, `${valid} of ${cases.length} valid`);
});

Deno.test("WebSocketDecoder rejects invalid UTF-8 as soon as it arrives, before FIN", () => {
  // Fail fast (Autobahn 6.4): the first fragment is already invalid; no FIN ever comes.
  const decoder = new WebSocketDecoder();
  decoder.decode(client(OPCODE.TEXT, "κόσμε", { fin: false }));
  assert.throws(
    () => decoder.decode(client(OPCODE.CONTINUATION, new Uint8Array([0xf4, 0x90]), { fin: false })),
    { code: "ERR_WS_INVALID_UTF8", closeCode: 1007 },
  );
});

Deno.test("WebSocketDecoder decodes Close frames and checks codes and reasons (Autobahn 7)", () => {
  assertDecodes(client(OPCODE.CLOSE), [{ type: "close", code: 1005, reason: "" }]);
  for (
    const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
  ) {
    assertDecodes(client(OPCODE.CLOSE, encodeClosePayload(code, "bye")), [
      { type: "close", code, reason: "bye" },
    ]);
  }
  const longReason = "r".repeat(123);
  assertDecodes(client(OPCODE.CLOSE, encodeClosePayload(1000, longReason)), [
    { type: "close", code: 1000, reason: longReason },
  ]);
  assertFails(client(OPCODE.CLOSE, new Uint8Array([0x03])), "ERR_WS_INVALID_CLOSE_PAYLOAD", 1002);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    const payload = new Uint8Array([code >>> 8, code & 0xff]);
    assertFails(client(OPCODE.CLOSE, payload), "ERR_WS_INVALID_CLOSE_CODE", 1002);
  }
  const badReason = new Uint8Array([0x03, 0xe8, 0xce, 0xba, 0xed, 0xa0, 0x80]);
  assertFails(client(OPCODE.CLOSE, badReason), "ERR_WS_INVALID_UTF8", 1007);
  assertFails(client(OPCODE.CLOSE, new Uint8Array(126)), "ERR_WS_CONTROL_FRAME_TOO_BIG", 1002);
});

Deno.test("WebSocketDecoder ignores everything after a Close frame (Autobahn 7.1)", () => {
  const bytes = concat(
    client(OPCODE.CLOSE, encodeClosePayload(1000)),
    client(OPCODE.TEXT, "after close"),
    client(OPCODE.PING),
    new Uint8Array([0xff, 0xff]), // not even a valid frame
  );
  assertDecodes(bytes, [{ type: "close", code: 1000, reason: "" }]);
  const decoder = new WebSocketDecoder();
  decoder.decode(bytes);
  assert.equal(decoder.state, "closed");
});

Deno.test("WebSocketDecoder requires masked frames as a server and unmasked ones as a client", () => {
  assertFails(encodeFrame(OPCODE.TEXT, "hi"), "ERR_WS_UNMASKED_FRAME", 1002);
  assertFails(encodeFrame(OPCODE.PING), "ERR_WS_UNMASKED_FRAME", 1002);
  assertFails(client(OPCODE.TEXT, "hi"), "ERR_WS_MASKED_FRAME", 1002, [], { role: "client" });
  assertDecodes(encodeFrame(OPCODE.TEXT, "hi"), [text("hi")], { role: "client" });
});

Deno.test("WebSocketDecoder enforces maxMessageSize from the header, before the payload", () => {
  const max = { maxMessageSize: 1000 };
  assertDecodes(client(OPCODE.BINARY, new Uint8Array(1000)), [binary(new Uint8Array(1000))], max);
  assertDecodes(client(OPCODE.TEXT, "x".repeat(1000)), [text("x".repeat(1000))], max);
  // Only the header of a 1001-byte frame: the error comes before any payload byte.
  const header = client(OPCODE.BINARY, new Uint8Array(1001)).subarray(0, 8);
  assertFails(header, "ERR_WS_MESSAGE_TOO_BIG", 1009, [], max);
  // Fragments that are each small but add up to more than the limit.
  const fragments = concat(
    client(OPCODE.TEXT, "x".repeat(600), { fin: false }),
    client(OPCODE.CONTINUATION, "x".repeat(401)).subarray(0, 8),
  );
  assertFails(fragments, "ERR_WS_MESSAGE_TOO_BIG", 1009, [], max);
  // A 64-bit length of 2^40 is refused from its 10 header bytes, never allocated.
  assertFails(
    new Uint8Array([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0]),
    "ERR_WS_MESSAGE_TOO_BIG",
    1009,
  );
  // The top bit of a 64-bit length must be 0 (RFC 6455 §5.2).
  assertFails(
    new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0]),
    "ERR_WS_INVALID_LENGTH",
    1002,
  );
});

Deno.test("WebSocketDecoder counts message size across messages from zero again", () => {
  const max = { maxMessageSize: 10 };
  const bytes = concat(
    client(OPCODE.TEXT, "12345", { fin: false }),
    client(OPCODE.CONTINUATION, "67890"),
    client(OPCODE.BINARY, new Uint8Array(10)),
  );
  assertDecodes(bytes, [text("1234567890"), binary(new Uint8Array(10))], max);
});

Deno.test("WebSocketDecoder enforces maxFragments", () => {
  const options = { maxFragments: 3 };
  const three = concat(
    client(OPCODE.BINARY, "a", { fin: false }),
    client(OPCODE.CONTINUATION, "", { fin: false }),
    client(OPCODE.CONTINUATION, "b"),
  );
  assertDecodes(three, [binary(encoder.encode("ab"))], options);
  const four = concat(
    client(OPCODE.TEXT, "a", { fin: false }),
    client(OPCODE.CONTINUATION, "", { fin: false }),
    client(OPCODE.CONTINUATION, "", { fin: false }),
    client(OPCODE.CONTINUATION, "b"),
  );
  assertFails(four, "ERR_WS_TOO_MANY_FRAGMENTS", 1009, [], options);
});

Deno.test("WebSocketDecoder does not modify or keep the chunks it is given", () => {
  const frame = client(OPCODE.BINARY, new Uint8Array([1, 2, 3, 4, 5]));
  const copy = frame.slice();
  const [event] = new WebSocketDecoder().decode(frame);
  assert.deepEqual(frame, copy);
  frame.fill(0); // a reused read buffer
  assert.deepEqual(event, binary(new Uint8Array([1, 2, 3, 4, 5])));
});

Deno.test("WebSocketDecoder decodes a 4 MiB message fed one byte at a time in linear time", () => {
  // A decoder that re-copied its buffer on every chunk would do ~8e12 byte copies here.
  const data = new Uint8Array(4 * 1024 * 1024).map((_, i) => i & 0xff);
  const frame = client(OPCODE.BINARY, data);
  const decoder = new WebSocketDecoder({ maxMessageSize: data.length });
  const events: WebSocketEvent[] = [];
  for (let i = 0; i < frame.length; i++) decoder.decode(frame.subarray(i, i + 1), events);
  assert.equal(events.length, 1);
  assert.deepEqual(events[0], binary(data));
});

Deno.test("WebSocketDecoder rejects invalid limits", () => {
  assert.throws(() => new WebSocketDecoder({ maxMessageSize: -1 }), RangeError);
  assert.throws(() => new WebSocketDecoder({ maxFragments: 0 }), RangeError);
});

Deno.test("WebSocketDecoder decodes short text on both sides of its ASCII fast path", () => {
  const cases: [string, Uint8Array | string, string | number][] = [
    ["ASCII at the fast path's limit", "a".repeat(128), "a".repeat(128)],
    ["ASCII just past it", "b".repeat(129), "b".repeat(129)],
    ["one non-ASCII character among ASCII", "abc é", "abc é"],
    ["an empty message", "", ""],
    ["a lone surrogate encoded in 3 bytes", new Uint8Array([0x61, 0xed, 0xa0, 0x80]), 1007],
    ["a byte that starts no UTF-8 sequence", new Uint8Array([0x61, 0xff]), 1007],
  ];
  for (const [name, payload, expected] of cases) {
    const frame = encodeFrame(OPCODE.TEXT, payload, { mask: true });
    if (typeof expected === "number") {
      assert.throws(() => new WebSocketDecoder().decode(frame), { closeCode: expected }, name);
    } else {
      assert.deepEqual(
        new WebSocketDecoder().decode(frame),
        [{ type: "text", data: expected }],
        name,
      );
    }
  }
});
