import assert from "node:assert/strict";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { Logger } from "../../lib/cli/log.ts";
import { serveTcp } from "../../lib/tcp/serve_tcp.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { missingTool } from "../helpers/external_tool.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const quiet = () => new Logger({ level: "error" });

/** Reads everything until EOF (bounded by `signal`). */
async function readToEnd(
  conn: Deno.Conn,
  signal = AbortSignal.timeout(5_000),
): Promise<Uint8Array> {
  const reader = new ChunkReader(conn);
  const parts: Uint8Array[] = [];
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort);
  try {
    for (let chunk; (chunk = await reader.read()) !== null;) parts.push(chunk.slice());
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A handler that reads a request to EOF, then writes a reply: needs half-close. */
async function reverseHandler(conn: Deno.Conn): Promise<void> {
  const request = await readToEnd(conn);
  await writeAll(conn, request.reverse());
}

Deno.test("serveTcp binds port 0 on IPv4 and IPv6 and reports the real port", async () => {
  for (const hostname of ["127.0.0.1", "::1"]) {
    await using server = serveTcp(reverseHandler, { hostname, logger: quiet() });
    assert.notEqual(server.addr.port, 0);
    assert.equal(server.addr.hostname, hostname);
    using conn = await Deno.connect({ hostname, port: server.addr.port });
    await writeAll(conn, encoder.encode("abc"));
    await conn.closeWrite();
    assert.equal(decoder.decode(await readToEnd(conn)), "cba");
  }
});

// Regression: ending `for await (const chunk of conn.readable)` at EOF closes
// the whole connection, so a server that reads a request to EOF could not send
// its reply. ChunkReader returns null at EOF and leaves the write side open.
Deno.test("serveTcp handlers can read to EOF and then finish writing (half-close)", async () => {
  await using server = serveTcp(reverseHandler, { logger: quiet() });
  using conn = await Deno.connect({ port: server.addr.port });
  const request = new Uint8Array(300_000).map((_, i) => i % 251);
  await writeAll(conn, request);
  await conn.closeWrite();
  const reply = await readToEnd(conn);
  assert.deepEqual(reply, request.reverse());
});

Deno.test("serveTcp refuses clients over maxConnections with one line and keeps the others", async () => {
  const release = Promise.withResolvers<void>();
  await using server = serveTcp(async (conn) => {
    await writeAll(conn, encoder.encode("welcome\n"));
    await release.promise;
  }, { maxConnections: 2, logger: quiet() });
  const port = server.addr.port;
  using a = await Deno.connect({ port });
  using b = await Deno.connect({ port });
  const readLine = async (conn: Deno.Conn) =>
    decoder.decode((await new ChunkReader(conn).read()) ?? undefined);
  assert.equal(await readLine(a), "welcome\n");
  assert.equal(await readLine(b), "welcome\n");
  using c = await Deno.connect({ port });
  assert.match(decoder.decode(await readToEnd(c)), /^error: server busy/);
  assert.equal(server.connectionCount, 2, "the first two are still served");
  release.resolve();
});

Deno.test("serveTcp closes a connection idle for idleTimeout, not a busy one", async () => {
  await using server = serveTcp(async (conn, ctx) => {
    const reader = new ChunkReader(conn);
    for (let chunk; (chunk = await reader.read()) !== null;) {
      ctx.touch();
      await writeAll(conn, chunk);
    }
  }, { idleTimeout: 1000, logger: quiet() });
  using idle = await Deno.connect({ port: server.addr.port });
  using busy = await Deno.connect({ port: server.addr.port });
  const started = performance.now();
  // The busy client keeps talking until the idle one has been closed.
  const idleClosed = readToEnd(idle);
  let closed = false;
  idleClosed.then(() => closed = true);
  const reader = new ChunkReader(busy);
  let rounds = 0;
  while (!closed) {
    await writeAll(busy, encoder.encode("x"));
    assert.notEqual(await reader.read(), null, "the busy connection must stay open");
    rounds++;
  }
  await idleClosed;
  // A lower bound only: a slow machine closes it later, never sooner. The
  // timeout is long (1 s) so that the busy client, which talks every round
  // trip, is never idle that long even on a loaded machine.
  assert.ok(performance.now() - started >= 900, "closed before the idle timeout");
  await writeAll(busy, encoder.encode("y"));
  assert.equal(decoder.decode((await reader.read())!), "y");
  assert.ok(rounds > 0);
});

Deno.test("serveTcp shutdown aborts ctx.signal, waits the grace period, then closes the rest", async () => {
  const sawAbort = Promise.withResolvers<void>();
  let stubbornError: unknown;
  const bothStarted = Promise.withResolvers<void>();
  let started = 0;
  const server = serveTcp(async (conn, ctx) => {
    if (++started === 2) bothStarted.resolve();
    if (ctx.id === 1) {
      // A polite handler: says goodbye and returns when told to.
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      sawAbort.resolve();
      await writeAll(conn, encoder.encode("bye\n"));
      return;
    }
    // A stubborn one: ignores the signal; the server must close it. Its own
    // 10 s timeout is the only other way out, and the test checks it was not.
    try {
      await readToEnd(conn, AbortSignal.timeout(10_000));
    } catch (error) {
      stubbornError = error;
      throw error;
    }
  }, { gracePeriod: 200, logger: quiet() });
  const polite = await Deno.connect({ port: server.addr.port });
  const stubborn = await Deno.connect({ port: server.addr.port });
  try {
    await bothStarted.promise;
    await server.shutdown();
    await sawAbort.promise;
    // The shutdown closed the stubborn connection after the grace period, so
    // its read ended on the close, not on its own 10 s timeout (no wall clock).
    assert.notEqual((stubbornError as Error | undefined)?.name, "TimeoutError");
    assert.equal(decoder.decode(await readToEnd(polite)), "bye\n");
    assert.equal((await readToEnd(stubborn)).length, 0, "the stubborn client sees a close");
    await assert.rejects(
      () => Deno.connect({ port: server.addr.port }),
      Deno.errors.ConnectionRefused,
    );
  } finally {
    polite.close();
    stubborn.close();
  }
});

Deno.test("serveTcp shuts down when its AbortSignal aborts", async () => {
  const controller = new AbortController();
  const server = serveTcp(() => {}, { signal: controller.signal, logger: quiet() });
  controller.abort();
  await server.finished;
  await assert.rejects(
    () => Deno.connect({ port: server.addr.port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("serveTcp serves TLS with the test certificate", async () => {
  const cert = await Deno.readTextFile(new URL("../fixtures/localhost.crt", import.meta.url));
  const key = await Deno.readTextFile(new URL("../fixtures/localhost.key", import.meta.url));
  const ca = await Deno.readTextFile(new URL("../fixtures/ca.crt", import.meta.url));
  await using server = serveTcp(reverseHandler, { tls: { cert, key }, logger: quiet() });
  using conn = await Deno.connectTls({
    hostname: "localhost",
    port: server.addr.port,
    caCerts: [ca],
  });
  await writeAll(conn, encoder.encode("secret"));
  await conn.closeWrite();
  assert.equal(decoder.decode(await readToEnd(conn)), "terces");
});

Deno.test("serveTcp explains an address already in use", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  assert.throws(
    () => serveTcp(() => {}, { port: taken.addr.port }),
    /address already in use: 127\.0\.0\.1:\d+ is taken \(pick another port, or port 0/,
  );
});

const NO_PYTHON = await missingTool("python3", ["-c", "import socket, struct"]);

// Regression: a client that resets its connection while it waits in the
// accept queue makes Deno's accept() reject with NotConnected; a bare
// `for await (const conn of listener)` then ends and the server silently stops
// accepting. The accept loop must log and go on.
Deno.test({
  name: "serveTcp keeps accepting after clients reset while queued for accept",
  ignore: NO_PYTHON,
  async fn() {
    const lines: string[] = [];
    await using server = serveTcp(async (conn) => {
      await writeAll(conn, encoder.encode("hi\n"));
    }, { logger: new Logger({ level: "debug", write: (line) => lines.push(line) }) });
    // outputSync blocks our event loop, so these connections sit in the accept
    // queue and are reset (SO_LINGER 0) before accept() sees them.
    const script = `
import socket, struct
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", ${server.addr.port}))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;
    const { success } = new Deno.Command("python3", { args: ["-c", script] }).outputSync();
    assert.ok(success);
    for (let i = 0; i < 3; i++) {
      using conn = await Deno.connect({ port: server.addr.port });
      assert.equal(decoder.decode(await readToEnd(conn)), "hi\n");
    }
    assert.ok(
      lines.some((line) => line.includes("left before it was accepted")),
      "the resets must have reached accept(), or this test proves nothing",
    );
  },
});

Deno.test("serveTcp refuses in the server's own protocol with the refuse option", async () => {
  const release = Promise.withResolvers<void>();
  const seen: { connectionCount: number; limit: number; reason: string }[] = [];
  await using server = serveTcp(async (conn) => {
    await writeAll(conn, encoder.encode("welcome\n"));
    await release.promise;
  }, {
    maxConnections: 1,
    logger: quiet(),
    refuse: async (conn, ctx) => {
      seen.push({ connectionCount: ctx.connectionCount, limit: ctx.limit, reason: ctx.reason });
      await writeAll(conn, encoder.encode("BUSY 1\n"));
    },
  });
  using a = await Deno.connect({ port: server.addr.port });
  assert.equal(decoder.decode((await new ChunkReader(a).read())!), "welcome\n");
  using b = await Deno.connect({ port: server.addr.port });
  assert.equal(decoder.decode(await readToEnd(b)), "BUSY 1\n");
  assert.deepEqual(seen, [{ connectionCount: 1, limit: 1, reason: "maxConnections" }]);
  assert.equal(server.connectionLimit, 1);
  release.resolve();
});

Deno.test("serveTcp closes a refusal that outlasts refusalTimeout and aborts its signal", async () => {
  const release = Promise.withResolvers<void>();
  const aborted: boolean[] = [];
  const server = serveTcp(async () => await release.promise, {
    maxConnections: 1,
    refusalTimeout: 50,
    logger: quiet(),
    // A refusal that never finishes on its own: the server must end it.
    refuse: (_conn, ctx) =>
      new Promise<void>((resolve) =>
        ctx.signal.addEventListener("abort", () => {
          aborted.push(true);
          resolve();
        })
      ),
  });
  try {
    using _served = await Deno.connect({ port: server.addr.port });
    using b = await Deno.connect({ port: server.addr.port });
    assert.equal((await readToEnd(b)).length, 0, "closed after refusalTimeout");
    assert.deepEqual(aborted, [true]);
    assert.equal(server.refusalCount, 0);
  } finally {
    release.resolve();
    await server.shutdown();
  }
});
