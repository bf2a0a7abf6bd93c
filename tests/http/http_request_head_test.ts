import assert from "node:assert/strict";
import { HttpError, RequestLineError } from "../../lib/http/http_error.ts";
import { HttpRequestHeadDecoder, readRequestHead } from "../../lib/http/http_request_head.ts";
import { isHttpRequestLine } from "../../lib/http/is_http_request_line.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";

const encoder = new TextEncoder();
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Feeds the chunks in order; returns the error of the chunk that failed and its index. */
function feed(chunks: Uint8Array[]): { error: unknown; chunk: number } | null {
  const decoder = new HttpRequestHeadDecoder();
  for (let i = 0; i < chunks.length; i++) {
    try {
      decoder.decode(chunks[i]!);
    } catch (error) {
      return { error, chunk: i };
    }
  }
  return null;
}

Deno.test("HttpRequestHeadDecoder answers 400 at the first byte that cannot be a request line", () => {
  // [chunks, offset of the bad byte, likely TLS, what the row covers]
  const cases: [string[], number, boolean, string][] = [
    [["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"], 0, true, "a TLS ClientHello record"],
    [["\x16"], 0, true, "the first byte alone of a ClientHello is enough"],
    [["\x00\x00"], 0, false, "binary"],
    [[" GET / HTTP/1.1\r\n"], 0, false, "leading space"],
    [["\r\nGET / HTTP/1.1\r\n"], 0, false, "leading empty line"],
    [["G(T / HTTP/1.1\r\n"], 1, false, "method is not a token"],
    [["GET  / HTTP/1.1\r\n"], 4, false, "two spaces: empty target"],
    [["GET /a\x00b HTTP/1.1\r\n"], 6, false, "a NUL in the target"],
    [["GET /a\tb HTTP/1.1\r\n"], 6, false, "a tab in the target"],
    [["GET / HTTP/2.0\r\n"], 11, false, "HTTP/2 on an HTTP/1 port"],
    [["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"], 11, false, "the HTTP/2 preface"],
    [["GET / http/1.1\r\n"], 6, false, "version in lower case"],
    [["GET / HTTP/1.1 \r\n"], 14, false, "space after the version"],
    [["GET / HTTP/1.1\n"], 14, false, "bare LF ends the request line"],
    [["GET / HTTP/1.1\rX"], 15, false, "CR without LF"],
    [["GET /\r\n"], 5, false, "no version (HTTP/0.9)"],
    [["*3\r\n$3\r\nSET\r\n"], 2, false, "a Redis command"],
    [["GE", "T / HT", "TP/1.", "2\r\n"], 13, false, "split across chunks: fails in the 4th"],
    [["G", "E", "T", " ", "\x01"], 4, false, "one byte per chunk"],
  ];
  for (const [chunks, offset, likelyTls, why] of cases) {
    const result = feed(chunks.map(latin1));
    assert.ok(result, `${why}: no error`);
    const { error, chunk } = result;
    assert.ok(error instanceof RequestLineError, `${why}: ${error}`);
    assert.ok(error instanceof HttpError && error.status === 400, why);
    assert.equal(error.offset, offset, why);
    assert.equal(error.likelyTls, likelyTls, why);
    // It failed in the chunk that holds the offending byte, not later.
    const before = chunks.slice(0, chunk).reduce((n, c) => n + c.length, 0);
    assert.ok(
      offset >= before && offset < before + chunks[chunk]!.length,
      `${why}: chunk ${chunk}`,
    );
  }
});

Deno.test("HttpRequestHeadDecoder still accepts every valid request line, split anywhere", () => {
  const requests = [
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /echo?room=1&x=%20 HTTP/1.0\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "M-SEARCH http://a.test:80/x HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", // raw UTF-8 in the target, as nginx allows
  ];
  for (const text of requests) {
    const bytes = latin1(text);
    for (let split = 0; split <= bytes.length; split++) {
      const decoder = new HttpRequestHeadDecoder();
      const first = decoder.decode(bytes.subarray(0, split));
      const head = first ?? decoder.decode(bytes.subarray(split));
      assert.ok(head, `${JSON.stringify(text)} split at ${split}`);
    }
  }
});

Deno.test("readRequestHead gives a real TLS ClientHello its 400 at once, not after the head timeout", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // The runtime's own TLS client sends a real ClientHello to a plain TCP socket.
  const client = Deno.connectTls({ hostname: "127.0.0.1", port: listener.addr.port });
  const handshake = client.then((conn) => conn.handshake().finally(() => conn.close()));
  handshake.catch(() => {}); // it fails: the server answers in plain text
  using conn = await listener.accept();
  // A deadline far beyond the test's run time: reaching it would mean a 408.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), 60_000);
  try {
    await assert.rejects(
      readRequestHead(new ChunkReader(conn), { signal: deadline.signal }),
      (error) =>
        error instanceof RequestLineError && error.status === 400 && error.likelyTls &&
        error.offset === 0,
    );
  } finally {
    clearTimeout(timer);
    conn.close();
    await handshake.catch(() => {});
  }
});

Deno.test("HttpRequestHeadDecoder keeps header errors past the request line as plain HttpError", () => {
  const decoder = new HttpRequestHeadDecoder();
  assert.throws(
    () => decoder.decode(encoder.encode("GET / HTTP/1.1\r\nNo colon\r\n\r\n")),
    (error) => error instanceof HttpError && !(error instanceof RequestLineError),
  );
});

Deno.test("isHttpRequestLine tells a browser's first line from chat input", () => {
  const cases: [string, boolean][] = [
    ["GET / HTTP/1.1", true],
    ["POST /chat?x=1 HTTP/1.0", true],
    ["OPTIONS * HTTP/1.1", true],
    ["GET / HTTP/2.0", false], // not HTTP/1.x
    ["GET /  HTTP/1.1", false], // two spaces
    ["alice", false],
    ["hello HTTP/1.1", false], // two words only
    ["/me says GET / HTTP/1.1", false],
    ["GET / HTTP/1.1 ", false], // trailing space
  ];
  for (const [line, expected] of cases) assert.equal(isHttpRequestLine(line), expected, line);
});
