import assert from "node:assert/strict";
import { StreamFaultSchedule } from "../../lib/proxy/fault_schedule.ts";
import {
  isResetError,
  proxyConnection,
  type ProxyConnectionOptions,
} from "../../lib/proxy/proxy_connection.ts";
import { BufferBudget } from "../../lib/io/buffer_budget.ts";
import { writeAll } from "../../lib/io/write_all.ts";

/**
 * A client, a proxy in this process and an upstream, all on loopback: the
 * test holds both outer ends, `client` and `server`.
 */
async function proxied(options: ProxyConnectionOptions = {}) {
  const upstreamListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const proxyListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: proxyListener.addr.port });
  const proxySide = await proxyListener.accept();
  const upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamListener.addr.port });
  const server = await upstreamListener.accept();
  proxyListener.close();
  upstreamListener.close();
  const result = proxyConnection(proxySide, upstream, options);
  return {
    client,
    server,
    result,
    async [Symbol.asyncDispose]() {
      for (const conn of [client, server]) {
        try {
          conn.close();
        } catch { /* closed by the test */ }
      }
      await result;
    },
  };
}

/** Reads until EOF; returns the bytes and how many reads it took. */
async function readToEnd(conn: Deno.Conn): Promise<{ bytes: Uint8Array; reads: number[] }> {
  const parts: Uint8Array[] = [];
  const reads: number[] = [];
  const buffer = new Uint8Array(65_536);
  for (let n; (n = await conn.read(buffer)) !== null;) {
    parts.push(buffer.slice(0, n));
    reads.push(n);
  }
  const bytes = new Uint8Array(reads.reduce((a, b) => a + b, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, reads };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const encode = (s: string) => new TextEncoder().encode(s);

Deno.test("proxyConnection passes a half-close on and still delivers the reply", async () => {
  await using p = await proxied();
  await writeAll(p.client, encode("request"));
  await p.client.closeWrite();
  // The server reads the request to EOF, which only a forwarded FIN gives it...
  const request = await readToEnd(p.server);
  assert.equal(text(request.bytes), "request");
  // ...and its reply still reaches the half-closed client.
  await writeAll(p.server, encode("reply"));
  await p.server.closeWrite();
  assert.equal(text((await readToEnd(p.client)).bytes), "reply");
  const result = await p.result;
  assert.equal(result.end, "closed");
  assert.equal(result.up.bytes, 7);
  assert.equal(result.down.bytes, 5);
});

// Deno's close() sends a FIN before the kernel's RST (it calls shutdown
// first), and an RST after a FIN makes the peer's writes fail with EPIPE:
// BrokenPipe. isResetError accepts both that and ConnectionReset.
Deno.test("proxyConnection passes a client's reset on: the upstream's writes then fail", async () => {
  await using p = await proxied();
  // The server streams; the client reads a little, then closes with data
  // unread, which makes its kernel send RST instead of FIN.
  const chunk = new Uint8Array(65_536);
  const streaming = (async () => {
    for (let i = 0; i < 4096; i++) await writeAll(p.server, chunk); // bounded: 256 MiB
  })();
  await p.client.read(new Uint8Array(1));
  p.client.close();
  await assert.rejects(streaming, (error) => isResetError(error));
  assert.equal((await p.result).end, "client-reset");
});

Deno.test("proxyConnection resetAfter forwards the budget, then a sender that goes on sending fails", async () => {
  await using p = await proxied({ up: { resetAfter: 1000 } });
  const chunk = new Uint8Array(10_000);
  const sending = (async () => {
    for (let i = 0; i < 4096; i++) await writeAll(p.client, chunk);
  })();
  // The server gets exactly the budget, then the connection ends.
  const received = await readToEnd(p.server).catch((error) => error);
  await assert.rejects(sending, (error) => isResetError(error));
  const result = await p.result;
  assert.equal(result.end, "reset-after");
  assert.equal(result.up.forwarded, 1000);
  if (!(received instanceof Error)) assert.ok(received.bytes.length <= 1000);
});

Deno.test("proxyConnection with slice 1 writes byte by byte, and the receiver sees the splits", async () => {
  // 41 bytes, each followed by a pause of at least 1 ms: a receiver would
  // have to sleep through 41 ms to find them all joined in one read.
  const message = "hello, world, one byte per write, slowly\n";
  await using p = await proxied({
    down: { faults: new StreamFaultSchedule({ slice: 1 }) },
  });
  await writeAll(p.server, encode(message));
  await p.server.closeWrite();
  const { bytes, reads } = await readToEnd(p.client);
  assert.equal(text(bytes), message);
  // One write per byte on the proxy's side. How the receiver's reads group
  // them depends on scheduling, but one read for everything would mean the
  // slices were merged (Nagle's algorithm left on).
  await p.client.closeWrite();
  const result = await p.result;
  assert.equal(result.down.writes, message.length);
  assert.ok(reads.length > 1, `reads: ${reads}`);
});

Deno.test("proxyConnection latency delays a round trip by at least the latency each way", async () => {
  await using p = await proxied({
    up: { faults: new StreamFaultSchedule({ latency: 50 }) },
    down: { faults: new StreamFaultSchedule({ latency: 50 }) },
  });
  const started = performance.now();
  await writeAll(p.client, encode("ping"));
  await p.server.read(new Uint8Array(16));
  await writeAll(p.server, encode("pong"));
  await p.client.read(new Uint8Array(16));
  assert.ok(performance.now() - started >= 100, "a round trip took less than 2 x 50 ms");
  await p.client.closeWrite();
  await p.server.closeWrite();
  assert.equal((await p.result).end, "closed");
});

Deno.test("proxyConnection bandwidth holds a transfer to the rate (after the first burst)", async () => {
  await using p = await proxied({ up: { faults: new StreamFaultSchedule({ bandwidth: 20_000 }) } });
  const started = performance.now();
  await writeAll(p.client, new Uint8Array(6_000));
  await p.client.closeWrite();
  const { bytes } = await readToEnd(p.server);
  // 6000 bytes at 20 kB/s, less the 1000-byte burst of the full bucket: >= 250 ms.
  assert.equal(bytes.length, 6_000);
  assert.ok(performance.now() - started >= 240, "the transfer beat the bandwidth limit");
  await p.server.closeWrite();
  await p.result;
});

Deno.test("proxyConnection blackhole reads everything and forwards nothing, not even the EOF", async () => {
  await using p = await proxied({ up: { blackhole: true } });
  await writeAll(p.client, encode("into the void"));
  await p.client.closeWrite();
  // Nothing reaches the server; the other direction still works.
  await writeAll(p.server, encode("still here"));
  const buffer = new Uint8Array(32);
  const n = await p.client.read(buffer);
  assert.equal(text(buffer.subarray(0, n!)), "still here");
  p.server.close();
  const result = await p.result;
  assert.equal(result.up.bytes, 13);
  assert.equal(result.up.forwarded, 0);
});

Deno.test("proxyConnection closeAfter closes both sides", async () => {
  await using p = await proxied({ closeAfter: 20 });
  assert.equal(await p.client.read(new Uint8Array(1)), null);
  assert.equal(await p.server.read(new Uint8Array(1)), null);
  assert.equal((await p.result).end, "close-after");
});

Deno.test("proxyConnection closes both sides (a FIN each) when its signal aborts", async () => {
  const controller = new AbortController();
  await using p = await proxied({ signal: controller.signal });
  controller.abort();
  assert.equal(await p.client.read(new Uint8Array(1)), null);
  assert.equal(await p.server.read(new Uint8Array(1)), null);
  assert.equal((await p.result).end, "aborted");
});

Deno.test("proxyConnection: connections sharing a budget grow their read buffers within it, and give it back", async () => {
  const size = 4 * 1024 * 1024;
  const payload = new Uint8Array(size).map((_, i) => i % 251);
  const stream = async (budget: BufferBudget) => {
    await using p = await proxied({ budget });
    const received = readToEnd(p.server);
    await writeAll(p.client, payload);
    await p.client.closeWrite();
    assert.deepEqual((await received).bytes, payload);
    await p.server.closeWrite();
    await readToEnd(p.client);
    assert.equal((await p.result).end, "closed");
  };
  const shared = new BufferBudget(256 * 1024);
  await Promise.all([stream(shared), stream(shared)]);
  assert.ok(shared.peak > 0, "the buffers grew past 4 KiB (reads filled them)");
  assert.ok(shared.peak <= shared.limit, `peak ${shared.peak} within ${shared.limit}`);
  assert.equal(shared.used, 0, "given back when the connections ended");
  // An empty budget keeps every buffer at 4 KiB: slower, but nothing is lost.
  const none = new BufferBudget(0);
  await stream(none);
  assert.equal(none.peak, 0);
});
