import assert from "node:assert/strict";
import { serveUdp } from "../../lib/udp/serve_udp.ts";
import { Logger } from "../../lib/cli/log.ts";
import { receiveWithin, udpSocket } from "../helpers/udp.ts";
import { spawn, spawnScript } from "../helpers/script_process.ts";
import { missingTool } from "../helpers/external_tool.ts";

const NO_SOCAT = await missingTool("socat", ["-V"]);
const NO_NC = await missingTool("nc", ["-h"]);

const quiet = new Logger({ level: "error" });
const echo = (datagram: Uint8Array) => datagram;

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
  return bytes;
}

/** Sends `payload` from a fresh socket and returns the echo. */
async function roundTrip(server: Deno.NetAddr, payload: Uint8Array): Promise<Uint8Array> {
  const socket = udpSocket(server.hostname);
  try {
    await socket.send(payload, server);
    const [data, from] = await receiveWithin(socket, 5000, new Uint8Array(65_536));
    assert.equal(from.port, server.port);
    return data.slice();
  } finally {
    socket.close();
  }
}

Deno.test("serveUdp echoes a datagram over IPv4", async () => {
  await using server = serveUdp(echo, { logger: quiet });
  assert.equal(server.addr.hostname, "127.0.0.1");
  const payload = new TextEncoder().encode("hello over IPv4");
  assert.deepEqual(await roundTrip(server.addr, payload), payload);
  assert.equal(server.stats.received, 1);
  assert.equal(server.stats.replied, 1);
});

Deno.test("serveUdp echoes a datagram over IPv6", async () => {
  await using server = serveUdp(echo, { hostname: "::1", logger: quiet });
  assert.equal(server.addr.hostname, "::1");
  const payload = new TextEncoder().encode("hello over IPv6");
  assert.deepEqual(await roundTrip(server.addr, payload), payload);
});

Deno.test("serveUdp echoes an empty datagram as an empty datagram", async () => {
  await using server = serveUdp(echo, { logger: quiet });
  assert.equal((await roundTrip(server.addr, new Uint8Array(0))).length, 0);
  assert.equal(server.stats.replied, 1);
});

Deno.test("serveUdp echoes the largest IPv4 datagram (65507 bytes) intact", async () => {
  await using server = serveUdp(echo, { logger: quiet });
  const payload = randomBytes(65_507);
  assert.deepEqual(await roundTrip(server.addr, payload), payload);
});

Deno.test("the OS refuses to send a datagram over 65507 bytes on IPv4", async () => {
  const socket = udpSocket();
  try {
    await assert.rejects(
      socket.send(new Uint8Array(65_508), socket.addr),
      /Message too long/,
    );
  } finally {
    socket.close();
  }
});

Deno.test("serveUdp drops and counts datagrams over maxDatagram, and echoes one at the limit", async () => {
  await using server = serveUdp(echo, { maxDatagram: 1000, logger: quiet });
  const socket = udpSocket();
  try {
    await socket.send(randomBytes(1001), server.addr);
    await socket.send(randomBytes(65_507), server.addr);
    const atLimit = randomBytes(1000);
    await socket.send(atLimit, server.addr);
    // Datagrams are handled in order: the first echo is the one at the limit.
    const [data] = await receiveWithin(socket, 5000, new Uint8Array(65_536));
    assert.deepEqual(data.slice(), atLimit);
    assert.deepEqual(
      { oversize: server.stats.oversize, replied: server.stats.replied },
      { oversize: 2, replied: 1 },
    );
  } finally {
    socket.close();
  }
});

Deno.test("serveUdp over IPv6 takes up to 65527 bytes with maxDatagram 65527, and drops them by default", async () => {
  await using big = serveUdp(echo, { hostname: "::1", maxDatagram: 65_527, logger: quiet });
  const payload = randomBytes(65_527);
  assert.deepEqual(await roundTrip(big.addr, payload), payload);

  await using server = serveUdp(echo, { hostname: "::1", logger: quiet });
  const socket = udpSocket("::1");
  try {
    await socket.send(payload, server.addr);
    await socket.send(new Uint8Array([1]), server.addr);
    const [data] = await receiveWithin(socket);
    assert.deepEqual([...data], [1]);
    assert.equal(server.stats.oversize, 1);
  } finally {
    socket.close();
  }
});

Deno.test("serveUdp drops and counts datagrams over a source's rate", async () => {
  // A rate of 0.001/s refills nothing during the test: exactly the burst gets through.
  const { promise: allDropped, resolve } = Promise.withResolvers<void>();
  let drops = 0;
  await using server = serveUdp(echo, {
    rate: 0.001,
    burst: 5,
    logger: quiet,
    onDrop: (reason) => {
      assert.equal(reason, "rate-limited");
      if (++drops === 15) resolve();
    },
  });
  const flooder = udpSocket();
  try {
    for (let i = 0; i < 20; i++) await flooder.send(new Uint8Array([i]), server.addr);
    await allDropped;
    const echoed: number[] = [];
    for (let i = 0; i < 5; i++) echoed.push((await receiveWithin(flooder))[0][0]!);
    assert.deepEqual(echoed, [0, 1, 2, 3, 4]);
    const stats = server.stats;
    assert.deepEqual(
      { received: stats.received, replied: stats.replied, rateLimited: stats.rateLimited },
      { received: 20, replied: 5, rateLimited: 15 },
    );
  } finally {
    flooder.close();
  }
});

Deno.test("udp_echo_server.ts reports rate-limit drops in its shutdown stats", async () => {
  const server = spawnScript("udp_echo_server.ts", [
    "--port",
    "0",
    "--rate",
    "0.001",
    "--burst",
    "3",
  ]);
  const socket = udpSocket();
  try {
    const [, port] = await server.stdout.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    const addr: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: Number(port) };
    for (let i = 0; i < 10; i++) await socket.send(new Uint8Array([i]), addr);
    for (let i = 0; i < 3; i++) await receiveWithin(socket);
    // The first drop (the 4th datagram) is logged once; later ones are only counted.
    await server.stderr.waitFor(/dropping datagrams: 127\.0\.0\.1 is over its --rate/);
  } finally {
    socket.close();
    server.child.kill("SIGINT");
  }
  const { code, stderr } = await server.finish();
  assert.equal(code, 0);
  // Datagrams still queued when the socket closed are neither counted nor answered.
  const match = stderr.match(/received (\d+), echoed 3, dropped (\d+) \(rate limit (\d+),/);
  assert.ok(match, stderr);
  assert.equal(Number(match[2]), Number(match[1]) - 3);
  assert.equal(match[3], match[2]);
  assert.ok(Number(match[2]) >= 1);
});

Deno.test("serveUdp survives a handler that throws and keeps serving", async () => {
  const logged: string[] = [];
  await using server = serveUdp((datagram) => {
    if (datagram[0] === 0) throw new Error("bad datagram");
    return datagram;
  }, { logger: new Logger({ write: (line) => logged.push(line) }) });
  const socket = udpSocket();
  try {
    await socket.send(new Uint8Array([0]), server.addr);
    await socket.send(new Uint8Array([7]), server.addr);
    const [data] = await receiveWithin(socket);
    assert.deepEqual([...data], [7]);
    assert.equal(server.stats.handlerErrors, 1);
    assert.match(
      logged.join("\n"),
      /handler failed on a datagram from 127\.0\.0\.1: Error: bad datagram/,
    );
  } finally {
    socket.close();
  }
});

Deno.test("serveUdp stops on its abort signal and explains a port in use", async () => {
  const controller = new AbortController();
  const server = serveUdp(echo, { signal: controller.signal, logger: quiet });
  assert.throws(
    () => serveUdp(echo, { port: server.addr.port, logger: quiet }),
    /address already in use: 127\.0\.0\.1:\d+ is taken/,
  );
  controller.abort();
  await server.finished;
  assert.equal(server.closing, true);
});

Deno.test("udp_echo_server.ts prints its address, echoes, and prints stats on SIGINT", async () => {
  const server = spawnScript("udp_echo_server.ts", ["--port", "0"]);
  try {
    const [, port] = await server.stdout.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    const addr: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: Number(port) };
    const payload = new TextEncoder().encode("ping");
    assert.deepEqual(await roundTrip(addr, payload), payload);
  } finally {
    server.child.kill("SIGINT");
  }
  const { code, stderr } = await server.finish();
  assert.equal(code, 0);
  assert.match(stderr, /info +shut down: received 1, echoed 1, dropped 0/);
});

Deno.test("udp_echo_server.ts with --host twice listens on both loopbacks, one port, one summary", async () => {
  const server = spawnScript(
    "udp_echo_server.ts",
    ["--host", "127.0.0.1", "--host", "::1", "--port", "0"],
    { allowNet: "127.0.0.1,[::1]" },
  );
  try {
    const [, port4] = await server.stdout.waitFor(/listening on 127\.0\.0\.1:(\d+)\n/);
    const [, port6] = await server.stdout.waitFor(/listening on \[::1\]:(\d+)\n/);
    assert.equal(port6, port4, "--port 0 picks one port for every host");
    for (const hostname of ["127.0.0.1", "::1"]) {
      const addr: Deno.NetAddr = { transport: "udp", hostname, port: Number(port4) };
      const payload = new TextEncoder().encode(`via ${hostname}`);
      assert.deepEqual(await roundTrip(addr, payload), payload);
    }
  } finally {
    server.child.kill("SIGINT");
  }
  const { code, stdout, stderr } = await server.finish();
  assert.equal(code, 0);
  assert.equal(stdout.match(/listening on/g)?.length, 2);
  assert.equal(stderr.match(/shutting down/g)?.length, 1, stderr);
  assert.match(stderr, /info +shut down: received 2, echoed 2, dropped 0/);
});

Deno.test("udp_echo_server.ts listens on IPv6 with brackets in its address line", async () => {
  const server = spawnScript("udp_echo_server.ts", ["--host", "::1", "--port", "0"], {
    allowNet: "[::1]",
  });
  try {
    const [, port] = await server.stdout.waitFor(/listening on \[::1\]:(\d+)/);
    const addr: Deno.NetAddr = { transport: "udp", hostname: "::1", port: Number(port) };
    const payload = new TextEncoder().encode("six");
    assert.deepEqual(await roundTrip(addr, payload), payload);
  } finally {
    server.child.kill("SIGTERM");
  }
  assert.equal((await server.finish()).code, 0);
});

Deno.test("udp_echo_server.ts --help explains the reflector risk and --unstable-net", async () => {
  const { code, stdout } = await spawnScript("udp_echo_server.ts", ["--help"]).finish();
  assert.equal(code, 0);
  assert.match(stdout, /reflector/);
  assert.match(stdout, /--unstable-net/);
  assert.match(stdout, /65507/);
});

Deno.test("udp_echo_server.ts exits 2 on a usage error and 1 on a port in use, with advice", async () => {
  const usage = await spawnScript("udp_echo_server.ts", ["--port", "70000"]).finish();
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--port: 70000 is out of range/);

  const taken = udpSocket();
  try {
    const port = String((taken.addr as Deno.NetAddr).port);
    const inUse = await spawnScript("udp_echo_server.ts", ["--port", port]).finish();
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /address already in use.*--port 0/);
  } finally {
    taken.close();
  }
});

Deno.test("udp_echo_server.ts without net permission names the flag to add", async () => {
  const denied = await spawnScript("udp_echo_server.ts", ["--port", "0"], { allowNet: "[::1]" })
    .finish();
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /--allow-net=127\.0\.0\.1/);
  // The whole command, for a `deno task` user who typed no flags (newcomer trial B9).
  assert.match(
    denied.stderr,
    /\nrun: deno run --unstable-net --allow-net=127\.0\.0\.1 scripts\/udp_echo_server\.ts --port 0\n/,
  );
});

Deno.test(
  "socat as a client gets its datagram echoed by our server",
  { ignore: NO_SOCAT },
  async () => {
    await using server = serveUdp(echo, { logger: quiet });
    const socat = spawn("socat", ["-t", "0.1", "-", `UDP:127.0.0.1:${server.addr.port}`], "piped");
    const writer = socat.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("via socat\n"));
    // socat exits 0.1 s (-t) after its stdin closes; the echo is already back by then.
    await socat.stdout.waitFor(/via socat\n/);
    await writer.close();
    const { code, stdout } = await socat.finish();
    assert.equal(code, 0);
    assert.equal(stdout, "via socat\n");
  },
);

Deno.test(
  "socat as a client over IPv6 gets its datagram echoed",
  { ignore: NO_SOCAT },
  async () => {
    await using server = serveUdp(echo, { hostname: "::1", logger: quiet });
    const socat = spawn("socat", ["-t", "0.1", "-", `UDP6:[::1]:${server.addr.port}`], "piped");
    const writer = socat.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("six via socat\n"));
    await socat.stdout.waitFor(/six via socat\n/);
    await writer.close();
    assert.equal((await socat.finish()).stdout, "six via socat\n");
  },
);

Deno.test("nc -u as a client gets each line echoed by our server", { ignore: NO_NC }, async () => {
  await using server = serveUdp(echo, { logger: quiet });
  const nc = spawn("nc", ["-u", "127.0.0.1", String(server.addr.port)], "piped");
  const writer = nc.child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode("first\n"));
    await nc.stdout.waitFor(/first\n/);
    await writer.write(new TextEncoder().encode("second\n"));
    await nc.stdout.waitFor(/first\nsecond\n/);
  } finally {
    await writer.close().catch(() => {});
    // nc -u never sees an end of the conversation (UDP has none): stop it.
    nc.child.kill("SIGTERM");
  }
  assert.equal((await nc.finish()).stdout, "first\nsecond\n");
  assert.equal(server.stats.replied, 2);
});

Deno.test("udp_echo_server.ts without --unstable-net says to add it", async () => {
  // --no-config ignores deno.json's "unstable": ["net"], like a copied script.
  const result = await spawn(Deno.execPath(), [
    "run",
    "--no-config",
    "--allow-net=127.0.0.1",
    "scripts/udp_echo_server.ts",
    "--port",
    "0",
  ]).finish();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Deno\.listenDatagram is unstable, run with --unstable-net/);
});

Deno.test("udp_echo_server.ts with a full source table still answers a new source", async () => {
  // Two real sources, 127.0.0.1 and ::1, on a dual-stack socket (bound to ::,
  // only ever sent to over loopback), and room for one: the IPv4 source keeps
  // its bucket drained, the IPv6 one pings.
  const server = spawnScript("udp_echo_server.ts", [
    "--host",
    "::",
    "--port",
    "0",
    "--rate",
    "0.001", // nothing refills during the test
    "--burst",
    "3",
    "--max-sources",
    "1",
  ], { allowNet: "[::],127.0.0.1,[::1]" });
  const drainer = udpSocket("127.0.0.1");
  const newcomer = udpSocket("::1");
  try {
    const [, port] = await server.stdout.waitFor(/listening on \[::\]:(\d+)/);
    const toV4: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: Number(port) };
    const toV6: Deno.NetAddr = { transport: "udp", hostname: "::1", port: Number(port) };
    for (let i = 0; i < 5; i++) await drainer.send(new Uint8Array([i]), toV4);
    for (let i = 0; i < 3; i++) await receiveWithin(drainer); // its burst, then nothing
    for (let ping = 0; ping < 10; ping++) {
      // Each round the drainer comes back first and takes the table's one slot.
      await drainer.send(new Uint8Array([100 + ping]), toV4);
      await newcomer.send(new Uint8Array([ping]), toV6);
      const [reply] = await receiveWithin(newcomer);
      assert.deepEqual([...reply], [ping], `ping ${ping}`);
    }
    await server.stderr.waitFor(/source table full \(--max-sources 1\): forgetting the least/);
  } finally {
    drainer.close();
    newcomer.close();
    server.child.kill("SIGINT");
  }
  const { code, stderr } = await server.finish();
  assert.equal(code, 0);
  const evicted = stderr.match(/sources evicted (\d+)/);
  assert.ok(evicted && Number(evicted[1]) >= 1, stderr);
});
