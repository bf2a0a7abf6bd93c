// Socket-free tests of the HTTP request head parser, the WebSocket handshake and the frame
// encoder and close helpers.
import assert from "node:assert/strict";
import { HttpError } from "../../lib/http/http_error.ts";
import {
  type HttpRequestHead,
  HttpRequestHeadDecoder,
  readRequestHead,
} from "../../lib/http/http_request_head.ts";
import {
  acceptWebSocket,
  computeAcceptKey,
  createOriginPolicy,
  selectSubprotocol,
} from "../../lib/websocket/websocket_handshake.ts";
import {
  encodeFrame,
  encodeFrameHeader,
  maskPayload,
  OPCODE,
} from "../../lib/websocket/websocket_frame.ts";
import {
  encodeClosePayload,
  isValidCloseCode,
  truncateCloseReason,
} from "../../lib/websocket/websocket_close.ts";

const encoder = new TextEncoder();
const REQUEST = "GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n" +
  "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";

Deno.test("HttpRequestHeadDecoder parses a head cut at every byte and keeps what follows", () => {
  const bytes = encoder.encode(REQUEST + "EXTRA");
  for (let cut = 0; cut <= bytes.length; cut++) {
    const decoder = new HttpRequestHeadDecoder();
    let head = decoder.decode(bytes.subarray(0, cut));
    // The rest is what followed the head in the chunk that completed it, plus unread chunks.
    let unread = bytes.subarray(cut);
    if (!head) {
      head = decoder.decode(unread);
      unread = new Uint8Array(0);
    }
    assert.ok(head, `cut at ${cut}`);
    assert.equal(head.method, "GET");
    assert.equal(head.target, "/chat?x=1");
    assert.equal(head.version, "HTTP/1.1");
    assert.equal(head.headers.get("sec-websocket-protocol"), "chat, superchat");
    const rest = new TextDecoder().decode(decoder.rest) + new TextDecoder().decode(unread);
    assert.equal(rest, "EXTRA", `cut at ${cut}`);
  }
  // One byte at a time.
  const decoder = new HttpRequestHeadDecoder();
  let head: HttpRequestHead | undefined;
  for (let i = 0; i < bytes.length && !head; i++) head = decoder.decode(bytes.subarray(i, i + 1));
  assert.equal(head?.headers.get("host"), "server.example.com");
});

Deno.test("HttpRequestHeadDecoder refuses malformed heads with 400", () => {
  const cases = [
    "GET /\r\n\r\n", // no version
    "GET / HTTP/2.0\r\n\r\n", // not HTTP/1.x
    "G(T / HTTP/1.1\r\n\r\n", // method is not a token
    "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
    "GET / HTTP/1.1\r\nSpace before : colon\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n folded: line\r\n\r\n",
  ];
  for (const request of cases) {
    assert.throws(
      () => new HttpRequestHeadDecoder().decode(encoder.encode(request)),
      (error) => error instanceof HttpError && error.status === 400,
      JSON.stringify(request),
    );
  }
});

Deno.test("HttpRequestHeadDecoder enforces maxHeadSize before buffering more, and maxHeaders", () => {
  const decoder = new HttpRequestHeadDecoder({ maxHeadSize: 64 });
  decoder.decode(encoder.encode("GET / HTTP/1.1\r\n"));
  assert.throws(
    () => decoder.decode(encoder.encode(`X: ${"y".repeat(100)}`)), // no end of head in sight
    (error) => error instanceof HttpError && error.status === 431,
  );
  const many = "GET / HTTP/1.1\r\n" + "A: b\r\n".repeat(11) + "\r\n";
  assert.throws(
    () => new HttpRequestHeadDecoder({ maxHeaders: 10 }).decode(encoder.encode(many)),
    (error) => error instanceof HttpError && error.status === 431,
  );
});

Deno.test("readRequestHead returns null on an empty stream and 400 on a truncated head", async () => {
  const reader = (chunks: string[]) => ({
    read: () => Promise.resolve(chunks.length ? encoder.encode(chunks.shift()!) : null),
  });
  assert.equal(await readRequestHead(reader([])), null);
  await assert.rejects(
    readRequestHead(reader(["GET / HTTP/1.1\r\n"])),
    (error) => error instanceof HttpError && error.status === 400,
  );
  const result = await readRequestHead(reader(["GET / HT", "TP/1.1\r\nHost: a\r\n\r\nxy"]));
  assert.equal(result?.head.headers.get("host"), "a");
  assert.deepEqual(result?.rest, encoder.encode("xy"));
  // A stalled client: the signal ends the wait with 408.
  const controller = new AbortController();
  const never = { read: () => new Promise<Uint8Array | null>(() => {}) };
  const waiting = readRequestHead(never, { signal: controller.signal });
  controller.abort();
  await assert.rejects(waiting, (error) => error instanceof HttpError && error.status === 408);
});

function head(headers: Record<string, string>, method = "GET"): HttpRequestHead {
  return {
    method,
    target: "/chat",
    version: "HTTP/1.1",
    headers: new Headers({
      Host: "server.example.com",
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...headers,
    }),
  };
}

Deno.test("computeAcceptKey matches RFC 6455 §1.3", async () => {
  assert.equal(await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("acceptWebSocket builds the 101 response with the selected subprotocol", async () => {
  const { protocol, response } = await acceptWebSocket(
    head({ "Sec-WebSocket-Protocol": "superchat, chat", Connection: "keep-alive, Upgrade" }),
    { protocols: ["chat", "superchat"] },
  );
  assert.equal(protocol, "superchat");
  assert.equal(
    new TextDecoder().decode(response),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: superchat\r\n\r\n",
  );
});

Deno.test("acceptWebSocket accepts permessage-deflate when offered, unless it is turned off", async () => {
  const offer = { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" };
  const accepted = await acceptWebSocket(head(offer));
  assert.match(
    new TextDecoder().decode(accepted.response),
    /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n/,
  );
  assert.equal(accepted.perMessageDeflate?.threshold, 1024);
  const off = await acceptWebSocket(head(offer), { perMessageDeflate: false });
  assert.equal(off.perMessageDeflate, undefined);
  assert.doesNotMatch(new TextDecoder().decode(off.response), /Extensions/);
  const notOffered = await acceptWebSocket(head({}));
  assert.equal(notOffered.perMessageDeflate, undefined);
  const tuned = await acceptWebSocket(head(offer), {
    perMessageDeflate: { threshold: 0, level: 9, clientMaxWindowBits: 9 },
  });
  assert.match(new TextDecoder().decode(tuned.response), /; client_max_window_bits=9\r\n/);
  assert.equal(tuned.perMessageDeflate?.level, 9);
});

Deno.test("acceptWebSocket refuses bad upgrades with 400, 403 and 426", async () => {
  const cases: [HttpRequestHead, number][] = [
    [head({}, "POST"), 400],
    [head({ Upgrade: "h2c" }), 400],
    [head({ Connection: "keep-alive" }), 400],
    [head({ "Sec-WebSocket-Key": "short" }), 400],
    [head({ "Sec-WebSocket-Version": "8" }), 426],
    [head({ Origin: "https://evil.example" }), 403],
  ];
  const noHost = head({});
  noHost.headers.delete("host");
  cases.push([noHost, 400]);
  for (const [request, status] of cases) {
    await assert.rejects(
      acceptWebSocket(request),
      (error) => error instanceof HttpError && error.status === status,
      `${[...request.headers]} -> ${status}`,
    );
  }
  const versionError = await acceptWebSocket(head({ "Sec-WebSocket-Version": "8" })).catch((e) =>
    e
  );
  assert.equal(versionError.headers["Sec-WebSocket-Version"], "13");
});

Deno.test("createOriginPolicy accepts no Origin, the same host, listed origins, or any with *", () => {
  const request = head({});
  request.headers.set("host", "127.0.0.1:8080");
  const policy = createOriginPolicy(["https://app.example"]);
  assert.equal(policy(null, request), true);
  assert.equal(policy("http://127.0.0.1:8080", request), true);
  assert.equal(policy("HTTPS://APP.EXAMPLE", request), true);
  assert.equal(policy("http://127.0.0.1:9999", request), false);
  assert.equal(policy("http://127.0.0.1.evil.example:8080", request), false);
  assert.equal(policy("null", request), false);
  request.headers.set("host", "example.com");
  assert.equal(policy("http://example.com", request), true); // default port 80 on both sides
  // The Host header's missing port is the default of the Origin's scheme.
  assert.equal(policy("https://example.com:443", request), true);
  assert.equal(policy("http://example.com:443", request), false);
  assert.equal(createOriginPolicy(["*"])("https://anything.example", request), true);
});

Deno.test("selectSubprotocol picks the client's first supported choice", () => {
  assert.equal(selectSubprotocol("a, b", ["b", "a"]), "a");
  assert.equal(selectSubprotocol(null, ["a"]), undefined);
  assert.equal(selectSubprotocol("c", ["a"]), undefined);
});

Deno.test("encodeFrameHeader uses 7-, 16- and 64-bit lengths at the boundaries", () => {
  const cases: [number, number[]][] = [
    [0, [0x82, 0]],
    [125, [0x82, 125]],
    [126, [0x82, 126, 0, 126]],
    [65535, [0x82, 126, 0xff, 0xff]],
    [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
    [2 ** 32 + 5, [0x82, 127, 0, 0, 0, 1, 0, 0, 0, 5]],
  ];
  for (const [length, expected] of cases) {
    assert.deepEqual(encodeFrameHeader(OPCODE.BINARY, length, undefined), new Uint8Array(expected));
  }
  assert.deepEqual(
    encodeFrameHeader(OPCODE.TEXT, 1, undefined, { fin: false, rsv: 4 }),
    new Uint8Array([0x41, 1]),
  );
  assert.throws(() => encodeFrameHeader(16, 0, undefined), RangeError);
  assert.throws(() => encodeFrameHeader(OPCODE.TEXT, -1, undefined), RangeError);
  assert.throws(() => encodeFrameHeader(OPCODE.TEXT, 1, new Uint8Array(3)), RangeError);
});

Deno.test("encodeFrame masks with a random key and maskPayload restores at any offset", () => {
  const payload = new Uint8Array(100).map((_, i) => i);
  const frame = encodeFrame(OPCODE.BINARY, payload, { mask: true });
  assert.equal(frame[1], 0x80 | 100);
  const key = frame.subarray(2, 6);
  const body = frame.slice(6);
  assert.notDeepEqual(body, payload);
  // Unmask in pieces of every size, as a decoder does with a payload split across chunks.
  for (let piece = 1; piece <= 9; piece++) {
    const copy = body.slice();
    for (let at = 0; at < copy.length; at += piece) {
      maskPayload(copy.subarray(at, at + piece), key, at);
    }
    assert.deepEqual(copy, payload, `pieces of ${piece}`);
  }
});

Deno.test("close payload helpers check codes and fit reasons into 123 bytes", () => {
  for (const code of [1000, 1003, 1007, 1014, 3000, 4999]) assert.ok(isValidCloseCode(code));
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
    assert.ok(!isValidCloseCode(code), String(code));
  }
  assert.throws(() => encodeClosePayload(1005), RangeError);
  assert.throws(() => encodeClosePayload(1000, "x".repeat(124)), RangeError);
  assert.throws(() => encodeClosePayload(undefined, "reason"), TypeError);
  assert.deepEqual(encodeClosePayload(), new Uint8Array(0));
  const long = "€".repeat(50); // 150 bytes
  const cut = truncateCloseReason(long);
  assert.equal(cut, "€".repeat(41)); // 123 bytes, no character cut in half
  assert.equal(truncateCloseReason("short"), "short");
});

Deno.test("maskPayload gives the byte-by-byte result for every view alignment, key offset and length", () => {
  const key = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  const memory = new Uint8Array(4096 + 8).map((_, i) => (i * 7) % 256);
  for (const length of [0, 1, 3, 63, 64, 65, 67, 200, 4096]) {
    for (let align = 0; align < 4; align++) {
      for (let offset = 0; offset < 4; offset++) {
        const bytes = memory.slice().subarray(align, align + length);
        const expected = bytes.map((b, i) => b ^ key[(offset + i) % 4]!);
        maskPayload(bytes, key, offset);
        assert.deepEqual(bytes, expected, `length ${length}, align ${align}, offset ${offset}`);
      }
    }
  }
});
