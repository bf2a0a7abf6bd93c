import assert from "node:assert/strict";
import { writeAndLinger } from "../../lib/io/write_and_linger.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connected pair on loopback: [client, server]. */
async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ port: listener.addr.port });
  return [client, await listener.accept()];
}

Deno.test("writeAndLinger writes, sends a FIN, drains the peer's bytes, and ends at the peer's FIN", async () => {
  const [client, server] = await pair();
  try {
    await client.write(encoder.encode("GET / HTTP/1.1\r\n\r\n")); // unread by the server
    const refusing = writeAndLinger(server, encoder.encode("busy\n"));
    const reply = new Uint8Array(16);
    const n = await client.read(reply);
    assert.equal(decoder.decode(reply.subarray(0, n!)), "busy\n");
    assert.equal(await client.read(reply), null, "a FIN follows the message");
    await client.closeWrite();
    await refusing;
  } finally {
    client.close();
    server.close();
  }
});

// Closing with unread request bytes sends RST, which can destroy a response
// the peer has not read yet (RFC 9112 section 9.6). After writeAndLinger the
// close is orderly: the peer reads the whole message and then EOF.
Deno.test("writeAndLinger then close: the peer that sent 100 KB first still reads the whole reply", async () => {
  const [client, server] = await pair();
  try {
    const sending = client.write(new Uint8Array(100_000)).catch(() => 0);
    const reply = new Uint8Array(50_000).fill(7);
    const signal = AbortSignal.timeout(5_000);
    const refusing = writeAndLinger(server, reply, { signal }).then(() => server.close());
    await sending;
    await client.closeWrite();
    const received: number[] = [];
    const buffer = new Uint8Array(65_536);
    for (let m; (m = await client.read(buffer)) !== null;) received.push(m);
    assert.equal(received.reduce((a, b) => a + b, 0), reply.length);
    await refusing;
  } finally {
    client.close();
    try {
      server.close();
    } catch { /* closed after lingering */ }
  }
});

Deno.test("writeAndLinger stops at maxDrainBytes or when the signal aborts, and never throws", async () => {
  const [client, server] = await pair();
  try {
    await client.write(new Uint8Array(10));
    // A peer that neither closes nor stops: the byte budget ends the lingering.
    await writeAndLinger(server, encoder.encode("x"), { maxDrainBytes: 10 });
    const controller = new AbortController();
    const lingering = writeAndLinger(server, encoder.encode("y"), { signal: controller.signal });
    controller.abort();
    await lingering; // the write side is already shut: it returns quietly
    await assert.rejects(
      writeAndLinger(server, encoder.encode("z"), { maxDrainBytes: -1 }),
      RangeError,
    );
  } finally {
    client.close();
    server.close();
  }
});
