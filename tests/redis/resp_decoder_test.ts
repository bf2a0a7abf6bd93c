import assert from "node:assert/strict";
import { FrameTooLargeError } from "../../lib/framing/frame_errors.ts";
import {
  RedisReplyError,
  RespDecoder,
  RespPush,
  type RespValue,
} from "../../lib/redis/resp_decoder.ts";
import { encodeCommand } from "../../lib/redis/resp_encoder.ts";

const encoder = new TextEncoder();

/** Feeds `chunks` through one decoder and returns every reply. */
function decodeAll(chunks: Uint8Array[], decoder = new RespDecoder()): RespValue[] {
  const out: RespValue[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let value = decoder.next(); value !== undefined; value = decoder.next()) out.push(value);
  }
  assert.equal(decoder.bufferedBytes, 0, "bytes left over");
  return out;
}

Deno.test("RespDecoder decodes each RESP2 and RESP3 type", () => {
  const table: [string, string, RespValue][] = [
    // [comment, wire bytes, value]
    ["simple string", "+OK\r\n", "OK"],
    ["integer, negative", ":-42\r\n", -42],
    ["bulk string with CRLF inside", "$4\r\na\r\nb\r\n", "a\r\nb"],
    ["empty bulk string", "$0\r\n\r\n", ""],
    ["RESP2 null bulk string", "$-1\r\n", null],
    ["RESP2 null array", "*-1\r\n", null],
    ["nested array", "*2\r\n*1\r\n:1\r\n+x\r\n", [[1], "x"]],
    ["empty array", "*0\r\n", []],
    ["RESP3 null", "_\r\n", null],
    ["RESP3 boolean", "#t\r\n", true],
    ["RESP3 double", ",3.5\r\n", 3.5],
    ["RESP3 infinity", ",-inf\r\n", -Infinity],
    [
      "RESP3 big number",
      "(3492890328409238509324850943850943825024385\r\n",
      3492890328409238509324850943850943825024385n,
    ],
    ["RESP3 verbatim string drops its format", "=8\r\ntxt:ab c\r\n", "ab c"],
    ["RESP3 set as an array", "~2\r\n+a\r\n+b\r\n", ["a", "b"]],
    ["UTF-8 bulk string", "$5\r\nh\u00e9\u00e9\r\n", "h\u00e9\u00e9"],
  ];
  for (const [comment, wire, expected] of table) {
    assert.deepEqual(decodeAll([encoder.encode(wire)]), [expected], comment);
  }
});

Deno.test("RespDecoder returns error replies, maps and pushes as values", () => {
  const [error, map, push, blobError] = decodeAll([
    encoder.encode("-WRONGTYPE Operation against a key\r\n%1\r\n+server\r\n+redis\r\n"),
    encoder.encode(">3\r\n+message\r\n+room\r\n$2\r\nhi\r\n!9\r\nERR x y z\r\n"),
  ]);
  assert.ok(error instanceof RedisReplyError);
  assert.equal(error.code, "WRONGTYPE");
  assert.deepEqual(map, new Map([["server", "redis"]]));
  assert.ok(push instanceof RespPush);
  assert.deepEqual(push.items, ["message", "room", "hi"]);
  assert.ok(blobError instanceof RedisReplyError);
  assert.equal(blobError.message, "ERR x y z");
});

Deno.test("RespDecoder gives the same replies for every cut of the stream", () => {
  // Every single cut point and every chunk of one byte: headers, lengths and
  // CRLFs split across reads are the cases a one-read-one-reply decoder gets wrong.
  const wire = encoder.encode(
    "+OK\r\n*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$6\r\nhello!\r\n:7\r\n$-1\r\n>2\r\n+a\r\n_\r\n",
  );
  const whole = decodeAll([wire]);
  assert.equal(whole.length, 5);
  for (let at = 1; at < wire.length; at++) {
    assert.deepEqual(decodeAll([wire.slice(0, at), wire.slice(at)]), whole, `cut at ${at}`);
  }
  assert.deepEqual(decodeAll(Array.from(wire, (byte) => new Uint8Array([byte]))), whole);
});

Deno.test("RespDecoder checks lengths from the header, before buffering", () => {
  const decoder = new RespDecoder({ maxBulkLength: 10, maxElements: 3 });
  decoder.push(encoder.encode("$11\r\n"));
  assert.throws(() => decoder.next(), FrameTooLargeError);
  const arrays = new RespDecoder({ maxElements: 3 });
  arrays.push(encoder.encode("*4\r\n"));
  assert.throws(() => arrays.next(), FrameTooLargeError);
  const nested = new RespDecoder({ maxDepth: 2 });
  nested.push(encoder.encode("*1\r\n*1\r\n*1\r\n:1\r\n"));
  assert.throws(() => nested.next(), FrameTooLargeError);
  const buffered = new RespDecoder({ maxBufferedBytes: 8 });
  assert.throws(() => buffered.push(encoder.encode("$3\r\nabc\r\n")), FrameTooLargeError);
});

Deno.test("RespDecoder refuses bytes that are not RESP with SyntaxError", () => {
  const table: [string, string][] = [
    // [comment, wire bytes]
    ["an HTTP answer", "HTTP/1.1 400 Bad Request\r\n"],
    ["a bare LF line end", "+OK\n\r\n"],
    ["a non-number length", "$abc\r\n"],
    ["a bulk string longer than announced", "$1\r\nab\r\n"],
    ["a boolean that is neither t nor f", "#x\r\n"],
  ];
  for (const [comment, wire] of table) {
    const decoder = new RespDecoder();
    decoder.push(encoder.encode(wire));
    assert.throws(() => decoder.next(), SyntaxError, comment);
  }
});

Deno.test("encodeCommand output decodes back to its arguments", () => {
  const args = ["SET", "key with space", "line\r\nbreak", "\u00e9"];
  assert.deepEqual(decodeAll([encodeCommand(args)]), [args]);
  assert.throws(() => encodeCommand([]), TypeError);
  assert.throws(() => encodeCommand(["INCRBY", "k", NaN]), TypeError);
});
