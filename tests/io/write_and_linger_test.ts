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

// Closing with unread request bytes sends RST, which destroys what of the
// response is still in flight (RFC 9112 section 9.6): with a 4 MB reply and
// 100 KB unread, a plain write-then-close was seen to reset the client after
// 128 KB. After writeAndLinger the close is orderly and every byte arrives.
Deno.test("writeAndLinger then close: a peer that sent 100 KB unread still gets a 4 MB reply whole", async () => {
  const [client, server] = await pair();
  try {
    await client.write(new Uint8Array(100_000));
    const reply = new Uint8Array(4_000_000).fill(7);
    const refusing = writeAndLinger(server, reply, { signal: AbortSignal.timeout(10_000) })
      .then(() => server.close());
    await client.closeWrite();
    let received = 0;
    const buffer = new Uint8Array(65_536);
    for (let m; (m = await client.read(buffer)) !== null;) received += m;
    assert.equal(received, reply.length);
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
