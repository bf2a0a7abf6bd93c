import assert from "node:assert/strict";
import { ConnectError, connectTcp } from "../../lib/tcp/connect_tcp.ts";

/** A port that nothing listens on (bound, then released). */
function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

Deno.test("connectTcp names the address when the connection is refused", async () => {
  const port = freePort();
  await assert.rejects(
    () => connectTcp({ port }),
    (error: unknown) =>
      error instanceof ConnectError && error.code === "refused" &&
      error.message === `connection refused: is the server running on 127.0.0.1:${port}?`,
  );
});

Deno.test("connectTcp retries with backoff and succeeds once the server is up", async () => {
  const port = freePort();
  const retries: number[] = [];
  let listener: Deno.Listener | undefined;
  try {
    const conn = await connectTcp({
      port,
      retries: 5,
      retryDelay: 20,
      // The first attempt was refused: start the server before the next one.
      onRetry: (error, attempt, delay) => {
        assert.equal(error.code, "refused");
        retries.push(delay);
        if (attempt === 2) listener = Deno.listen({ hostname: "127.0.0.1", port });
      },
    });
    conn.close();
    assert.deepEqual(retries, [20, 40], "two refused attempts, delay doubling");
  } finally {
    listener?.close();
  }
});

Deno.test("connectTcp gives up after the last retry", async () => {
  const port = freePort();
  let calls = 0;
  await assert.rejects(
    () => connectTcp({ port, retries: 2, retryDelay: 1, onRetry: () => calls++ }),
    ConnectError,
  );
  assert.equal(calls, 2);
});

Deno.test("connectTcp times out a TLS handshake the server never answers", async () => {
  // A plain TCP server that accepts and says nothing: the TLS client waits
  // for a ServerHello that never comes.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const started = performance.now();
  await assert.rejects(
    () => connectTcp({ port: listener.addr.port, tls: true, timeout: 300 }),
    (error: unknown) =>
      error instanceof ConnectError && error.code === "timeout" &&
      /timed out after 300 ms/.test(error.message),
  );
  // A lower bound only (a slow machine times out later, never sooner), with
  // 50 ms of slack for timer rounding: it proves the timeout, not a fast failure.
  assert.ok(performance.now() - started >= 250);
  (await accepted).close();
});

Deno.test("connectTcp explains an untrusted certificate", async () => {
  const cert = await Deno.readTextFile(new URL("../fixtures/localhost.crt", import.meta.url));
  const key = await Deno.readTextFile(new URL("../fixtures/localhost.key", import.meta.url));
  using listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  const serverSide = listener.accept().then(async (conn) => {
    await conn.handshake().catch(() => {});
    conn.close();
  });
  await assert.rejects(
    () => connectTcp({ port: listener.addr.port, tls: true }),
    (error: unknown) =>
      error instanceof ConnectError && error.code === "tls" && /--ca FILE/.test(error.message),
  );
  await serverSide;
});

Deno.test("connectTcp connects over TLS with a custom CA, and over IPv6", async () => {
  const cert = await Deno.readTextFile(new URL("../fixtures/localhost.crt", import.meta.url));
  const key = await Deno.readTextFile(new URL("../fixtures/localhost.key", import.meta.url));
  const ca = await Deno.readTextFile(new URL("../fixtures/ca.crt", import.meta.url));
  using listener = Deno.listenTls({ hostname: "::1", port: 0, cert, key });
  const serverSide = listener.accept().then(async (conn) => {
    await conn.write(new TextEncoder().encode("ok"));
    conn.close();
  });
  const conn = await connectTcp({
    hostname: "::1",
    port: listener.addr.port,
    tls: true,
    caCerts: [ca],
  });
  const buffer = new Uint8Array(2);
  assert.equal(await conn.read(buffer), 2);
  conn.close();
  await serverSide;
});
