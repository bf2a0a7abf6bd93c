import assert from "node:assert/strict";
import { listenUdp } from "../../lib/udp/listen_udp.ts";

Deno.test("listenUdp opens a socket on an ephemeral loopback port", () => {
  const socket = listenUdp("127.0.0.1", 0);
  try {
    const addr = socket.addr as Deno.NetAddr;
    assert.equal(addr.transport, "udp");
    assert.equal(addr.hostname, "127.0.0.1");
    assert.ok(addr.port > 0);
  } finally {
    socket.close();
  }
});

Deno.test("listenUdp turns a taken port into advice with the address and the cause", () => {
  const first = listenUdp("127.0.0.1", 0);
  try {
    const { port } = first.addr as Deno.NetAddr;
    assert.throws(
      () => listenUdp("127.0.0.1", port),
      (error) =>
        error instanceof Error &&
        error.message.startsWith(`address already in use: 127.0.0.1:${port}`) &&
        error.cause instanceof Deno.errors.AddrInUse,
    );
  } finally {
    first.close();
  }
});

Deno.test("listenUdp over IPv6 brackets the address in its advice", () => {
  const first = listenUdp("::1", 0);
  try {
    const { port } = first.addr as Deno.NetAddr;
    assert.throws(() => listenUdp("::1", port), new RegExp(`\\[::1\\]:${port}`));
  } finally {
    first.close();
  }
});
