import assert from "node:assert/strict";
import { DatagramRequester, DatagramTimeoutError } from "../../lib/udp/datagram_requester.ts";
import {
  decodeEchoProbe,
  ECHO_PROBE_HEADER_SIZE,
  encodeEchoProbe,
  MAX_UDP_PAYLOAD,
} from "../../lib/udp/echo_probe.ts";
import { SourceRateLimiter } from "../../lib/udp/source_rate_limiter.ts";
import { receiveWithin, udpSocket } from "../helpers/udp.ts";

Deno.test("encodeEchoProbe and decodeEchoProbe round-trip seq, send time and payload", () => {
  const cases = [
    // smallest probe: header only
    { seq: 0, sentAt: 0, payload: new Uint8Array(0), size: 0, length: 16 },
    // padding to a ping-like size
    { seq: 1, sentAt: 123.456, payload: new Uint8Array(0), size: 64, length: 64 },
    // payload longer than size: size is ignored
    { seq: 0xffff_ffff, sentAt: 1e9, payload: new Uint8Array([1, 2, 3]), size: 10, length: 19 },
    // the largest datagram UDP carries over IPv4
    { seq: 42, sentAt: 1, payload: new Uint8Array(0), size: MAX_UDP_PAYLOAD, length: 65_507 },
  ];
  for (const { seq, sentAt, payload, size, length } of cases) {
    const datagram = encodeEchoProbe(seq, { sentAt, payload, size });
    assert.deepEqual(datagram.length, length);
    const probe = decodeEchoProbe(datagram);
    assert.deepEqual(probe?.seq, seq);
    assert.deepEqual(probe?.sentAt, sentAt);
    assert.deepEqual([...probe!.payload.subarray(0, payload.length)], [...payload]);
  }
});

Deno.test("decodeEchoProbe returns null for short or foreign datagrams", () => {
  assert.deepEqual(decodeEchoProbe(new Uint8Array(0)), null);
  assert.deepEqual(decodeEchoProbe(new Uint8Array(ECHO_PROBE_HEADER_SIZE - 1)), null);
  assert.deepEqual(decodeEchoProbe(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")), null);
  // a probe read from an offset inside a larger buffer still decodes
  const inner = encodeEchoProbe(9, { sentAt: 5 });
  const outer = new Uint8Array(inner.length + 3);
  outer.set(inner, 3);
  assert.deepEqual(decodeEchoProbe(outer.subarray(3))?.seq, 9);
});

Deno.test("encodeEchoProbe rejects bad sequence numbers and oversize datagrams", () => {
  assert.throws(() => encodeEchoProbe(-1), /seq -1 is not/);
  assert.throws(() => encodeEchoProbe(2 ** 32), RangeError);
  assert.throws(() => encodeEchoProbe(1, { size: 65_508 }), /65508 bytes exceeds/);
});

Deno.test("SourceRateLimiter allows a burst, refills at the rate and keeps sources apart", () => {
  let now = 0;
  const limiter = new SourceRateLimiter({ rate: 10, burst: 3, now: () => now });
  const take = (source: string, n: number) =>
    Array.from({ length: n }, () => limiter.check(source));
  assert.deepEqual(take("a", 4), ["allowed", "allowed", "allowed", "rate-limited"]);
  assert.deepEqual(take("b", 1), ["allowed"]);
  now += 100; // 10 per second: one token back after 100 ms
  assert.deepEqual(take("a", 2), ["allowed", "rate-limited"]);
});

Deno.test("SourceRateLimiter with a full table forgets the least recently seen source", () => {
  let now = 0;
  const limiter = new SourceRateLimiter({ rate: 1, burst: 1, maxSources: 2, now: () => now });
  assert.equal(limiter.check("a"), "allowed");
  assert.equal(limiter.check("b"), "allowed");
  assert.equal(limiter.check("a"), "rate-limited"); // "a" is now the most recently seen
  assert.equal(limiter.check("c"), "allowed", "a newcomer gets in although both are drained");
  assert.equal(limiter.sourceCount, 2);
  assert.equal(limiter.evictions, 1, "b was forgotten while over its rate");
  assert.equal(limiter.check("a"), "rate-limited", "a kept its drained bucket");
  now += 1500; // every bucket refilled: forgetting one now loses nothing
  assert.equal(limiter.check("d"), "allowed");
  assert.equal(limiter.evictions, 1);
});

// Regression (issue 10, section 5): with 150 sources keeping their buckets
// drained and room for 100, a new source got "too-many-sources" for every
// datagram, because only sources with a full bucket could be forgotten.
Deno.test("SourceRateLimiter: 150 sources drain their buckets, a newcomer still gets its 10 pings in", () => {
  let now = 0;
  const limiter = new SourceRateLimiter({ rate: 10, burst: 5, maxSources: 100, now: () => now });
  const drainers = Array.from({ length: 150 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  let answered = 0;
  for (let ping = 0; ping < 10; ping++) {
    // Between two pings (100 ms apart) each drainer sends 10 datagrams, twice its rate.
    for (let round = 0; round < 10; round++) {
      now += 10;
      for (const source of drainers) limiter.check(source);
    }
    if (limiter.check("192.0.2.1") === "allowed") answered++;
    assert.ok(limiter.sourceCount <= 100, "memory stays bounded");
  }
  assert.equal(answered, 10);
});

Deno.test("SourceRateLimiter rejects a non-positive rate or table size", () => {
  assert.throws(() => new SourceRateLimiter({ rate: -1 }), RangeError);
  assert.throws(() => new SourceRateLimiter({ maxSources: 0 }), /maxSources 0/);
});

/**
 * A scripted peer: answers each request with whatever `answer` returns,
 * sending the datagrams it lists (possibly none, or several).
 */
function scriptedServer(
  answer: (request: Uint8Array, index: number) => Uint8Array[],
): { addr: Deno.NetAddr; close(): Promise<void> } {
  const socket = udpSocket();
  let index = 0;
  const loop = (async () => {
    for (;;) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await socket.receive();
      } catch {
        return;
      }
      for (const reply of answer(data, ++index)) await socket.send(reply, from);
    }
  })();
  return {
    addr: socket.addr as Deno.NetAddr,
    async close() {
      socket.close();
      await loop;
    },
  };
}

Deno.test("DatagramRequester matches replies by id and counts duplicates and strays", async () => {
  // Replies to request k: a stray (unknown id), then k's reply twice.
  const server = scriptedServer((request) => {
    const seq = decodeEchoProbe(request)!.seq;
    return [encodeEchoProbe(seq + 1000), request, request];
  });
  const unmatched: string[] = [];
  const requester = new DatagramRequester(server.addr, {
    timeout: 5000,
    retries: 0,
    onUnmatched: (kind, _data, _from, id) => unmatched.push(`${kind}:${id}`),
  });
  try {
    for (const seq of [1, 2, 3]) {
      const reply = await requester.request(seq, encodeEchoProbe(seq));
      assert.deepEqual(reply.id, seq);
      assert.deepEqual(reply.attempts, 1);
      assert.deepEqual(decodeEchoProbe(reply.data)?.seq, seq);
    }
    // The last duplicate may still be on its way: wait for it with one more request.
    await requester.request(4, encodeEchoProbe(4));
    const stats = requester.stats;
    assert.deepEqual(stats.replies, 4);
    assert.deepEqual(stats.duplicates, 3); // the duplicates of 1, 2, 3 (4's may still be in flight)
    assert.deepEqual(stats.stray, 4);
    assert.deepEqual(unmatched.slice(0, 3), ["stray:1001", "duplicate:1", "stray:1002"]);
  } finally {
    await requester.close();
    await server.close();
  }
});

Deno.test("DatagramRequester resends after a timeout and a late first reply completes the request once", async () => {
  // The server ignores the first copy of every request and answers later ones.
  const server = scriptedServer((request, index) => index === 1 ? [] : [request]);
  // 200 ms per try: the answer to the second copy has 600 ms to arrive, even on a loaded machine.
  const requester = new DatagramRequester(server.addr, { timeout: 200, retries: 3 });
  try {
    const reply = await requester.request(7, encodeEchoProbe(7));
    assert.ok(reply.attempts >= 2, `expected a resend, got ${reply.attempts} attempts`);
    assert.deepEqual(requester.stats.retransmits, reply.attempts - 1);
    assert.deepEqual(requester.stats.replies, 1);
  } finally {
    await requester.close();
    await server.close();
  }
});

Deno.test("DatagramRequester gives up after every try with advice, then counts the reply as late", async () => {
  const silent = udpSocket();
  const { promise: unmatched, resolve } = Promise.withResolvers<string>();
  const requester = new DatagramRequester(silent.addr as Deno.NetAddr, {
    timeout: 30,
    retries: 2,
    onUnmatched: (kind, _data, _from, id) => resolve(`${kind}:${id}`),
  });
  try {
    await assert.rejects(
      requester.request(5, encodeEchoProbe(5)),
      (e: unknown) =>
        e instanceof DatagramTimeoutError && e.attempts === 3 && /after 3 tries/.test(e.message),
    );
    assert.equal(requester.stats.timeouts, 1);
    assert.equal(requester.stats.sent, 3);
    // The silent server answers its first copy only now: too late.
    const [request, from] = await receiveWithin(silent);
    await silent.send(request, from);
    assert.equal(await unmatched, "late:5");
    assert.equal(requester.stats.late, 1);
  } finally {
    await requester.close();
    silent.close();
  }
});

Deno.test("DatagramTimeoutError says UDP is connectionless and what to check", () => {
  const error = new DatagramTimeoutError({ hostname: "::1", port: 7001 }, 3, 1000);
  assert.match(error.message, /^no reply from \[::1\]:7001 after 3 tries \(1000 ms each\)/);
  assert.match(error.message, /UDP is connectionless/);
  assert.match(error.message, /server is running on \[::1\]:7001/);
});

Deno.test("DatagramRequester ignores a datagram with the right id from another address", async () => {
  const server = udpSocket();
  const intruder = udpSocket();
  const requester = new DatagramRequester(server.addr as Deno.NetAddr, { timeout: 5000 });
  try {
    const pending = requester.request(1, encodeEchoProbe(1));
    const [request, from] = await receiveWithin(server);
    await intruder.send(request, from); // forged answer from the wrong port
    await server.send(request, from);
    const reply = await pending;
    assert.deepEqual(reply.from.port, (server.addr as Deno.NetAddr).port);
    assert.deepEqual(requester.stats.stray, 1);
  } finally {
    await requester.close();
    server.close();
    intruder.close();
  }
});

Deno.test("DatagramRequester rejects a request on abort and pending ones on close", async () => {
  const silent = udpSocket();
  const requester = new DatagramRequester(silent.addr as Deno.NetAddr, { timeout: 60_000 });
  try {
    const controller = new AbortController();
    const aborted = requester.request(1, encodeEchoProbe(1), { signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    assert.equal(requester.pendingCount, 0);
    const pending = assert.rejects(
      requester.request(2, encodeEchoProbe(2)),
      /requester is closed/,
    );
    await requester.close();
    await pending;
    await assert.rejects(requester.request(3, encodeEchoProbe(3)), /requester is closed/);
  } finally {
    await requester.close();
    silent.close();
  }
});

Deno.test("DatagramRequester refuses an id that is already waiting", async () => {
  const silent = udpSocket();
  const requester = new DatagramRequester(silent.addr as Deno.NetAddr, { timeout: 60_000 });
  // Closing rejects the first request: handle that from the start.
  const first = requester.request(1, encodeEchoProbe(1)).catch(() => {});
  try {
    await assert.rejects(requester.request(1, encodeEchoProbe(1)), RangeError);
  } finally {
    await requester.close();
    await first;
    silent.close();
  }
});

Deno.test("DatagramRequester sends requests started together in the order they were made", async () => {
  // Regression: the runtime's DatagramConn.send() is asynchronous, and two
  // sends started back to back can leave in either order (the first send of
  // a socket is slower). Ping then reported reordering that the network never
  // did. The requester now chains its sends.
  const server = udpSocket();
  const requester = new DatagramRequester(server.addr as Deno.NetAddr, { timeout: 60_000 });
  const pending = Array.from(
    { length: 50 },
    (_, seq) => requester.request(seq, encodeEchoProbe(seq)).catch(() => {}),
  );
  try {
    const order: number[] = [];
    for (let i = 0; i < 50; i++) {
      order.push(decodeEchoProbe((await receiveWithin(server))[0])!.seq);
    }
    assert.deepEqual(order, Array.from({ length: 50 }, (_, seq) => seq));
  } finally {
    await requester.close();
    await Promise.all(pending);
    server.close();
  }
});

Deno.test("DatagramRequester reports the OS refusing a datagram over the UDP maximum", async () => {
  const silent = udpSocket();
  const requester = new DatagramRequester(silent.addr as Deno.NetAddr);
  try {
    await assert.rejects(
      requester.request(1, new Uint8Array(MAX_UDP_PAYLOAD + 1)),
      /Message too long/,
    );
  } finally {
    await requester.close();
    silent.close();
  }
});
