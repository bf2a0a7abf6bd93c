import assert from "node:assert/strict";
import { explainUdpError } from "../../lib/cli/explain_udp_error.ts";
import { ListenError } from "../../lib/net/net_errors.ts";
import { Logger } from "../../lib/cli/log.ts";
import { runScript } from "../helpers/script_process.ts";
import { serveUdp, type UdpServer } from "../../lib/udp/serve_udp.ts";
import { LossyRelay, receiveWithin, udpSocket } from "../helpers/udp.ts";
import { spawn, spawnScript, writeAndClose } from "../helpers/script_process.ts";
import { missingTool } from "../helpers/external_tool.ts";

const NO_SOCAT = await missingTool("socat", ["-V"]);
const NO_NC = await missingTool("nc", ["-h"]);

const quiet = new Logger({ level: "error" });

function echoServer(hostname = "127.0.0.1", rate?: number): UdpServer {
  return serveUdp((datagram) => datagram, { hostname, logger: quiet, rate });
}

function client(args: string[], options: { allowNet?: string; stdin?: "piped" | "null" } = {}) {
  return spawnScript("udp_client.ts", args, options);
}

/** Parses the ping summary into numbers. */
function pingSummary(stdout: string) {
  const match = stdout.match(
    /(\d+) datagrams transmitted, (\d+) received, ([\d.]+)% loss, (\d+) duplicates, (\d+) reordered, (\d+) late/,
  );
  assert.ok(match, `no summary in: ${stdout}`);
  const field = (i: number) => Number(match[i]);
  return {
    transmitted: field(1),
    received: field(2),
    loss: field(3),
    duplicates: field(4),
    reordered: field(5),
    late: field(6),
  };
}

Deno.test("udp_client.ts --message prints the reply and exits 0 (IPv4)", async () => {
  await using server = echoServer();
  const result = await client(["--port", String(server.addr.port), "--message", "hello"]).finish();
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "hello\n");
});

Deno.test("udp_client.ts --message works over IPv6", async () => {
  await using server = echoServer("::1");
  const result = await client(
    ["--host", "[::1]", "--port", String(server.addr.port), "--message", "hello six"],
    { allowNet: "[::1]" },
  ).finish();
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "hello six\n");
});

Deno.test("udp_client.ts --message exits 1 after its tries, saying UDP is connectionless and what to check", async () => {
  // A bound socket that never answers: like a lost datagram, or a server that is down.
  const silent = udpSocket();
  const port = (silent.addr as Deno.NetAddr).port;
  try {
    const result = await client(
      ["--port", String(port), "--message", "anyone?", "--timeout", "0.05", "--retries", "2"],
    ).finish();
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`no reply from 127\\.0\\.0\\.1:${port} after 3 tries`));
    assert.match(result.stderr, /UDP is connectionless/);
    assert.match(result.stderr, /check that the server is running/);
    // Exactly three copies were sent.
    for (let i = 0; i < 3; i++) {
      const [data] = await receiveWithin(silent);
      assert.equal(new TextDecoder().decode(data), "anyone?");
    }
  } finally {
    silent.close();
  }
});

Deno.test("udp_client.ts ping with no reply at all exits 1 and asks whether the server is running", async () => {
  const silent = udpSocket();
  const port = (silent.addr as Deno.NetAddr).port;
  try {
    const result = await client(
      ["--port", String(port), "--count", "2", "--interval", "0.01", "--timeout", "0.05"],
    ).finish();
    assert.equal(result.code, 1);
    assert.equal(pingSummary(result.stdout).received, 0);
    assert.match(
      result.stderr,
      new RegExp(`no reply at all: is the server running on 127\\.0\\.0\\.1:${port}\\?`),
    );
    for (let i = 0; i < 2; i++) await receiveWithin(silent);
  } finally {
    silent.close();
  }
});

Deno.test("udp_client.ts ping prints a line per reply and a summary with RTT statistics", async () => {
  await using server = echoServer();
  const result = await client(
    ["--port", String(server.addr.port), "--count", "5", "--interval", "0"],
  ).finish();
  assert.equal(result.code, 0);
  const replies = result.stdout.match(
    /^64 bytes from 127\.0\.0\.1:\d+: seq=\d+ time=[\d.]+ ms$/gm,
  );
  assert.equal(replies?.length, 5);
  assert.deepEqual(pingSummary(result.stdout), {
    transmitted: 5,
    received: 5,
    loss: 0,
    duplicates: 0,
    reordered: 0,
    late: 0,
  });
  assert.match(result.stdout, /rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms/);
});

Deno.test("udp_client.ts ping without --count runs until Ctrl+C, then prints the summary and exits 0", async () => {
  await using server = echoServer();
  const proc = client(["--port", String(server.addr.port), "--ping", "--interval", "0.01"]);
  try {
    await proc.stdout.waitFor(/seq=3 time=/);
  } finally {
    proc.child.kill("SIGINT");
  }
  const result = await proc.finish();
  assert.equal(result.code, 0);
  const summary = pingSummary(result.stdout);
  assert.ok(summary.received >= 3);
  assert.ok(summary.transmitted >= summary.received);
});

Deno.test("udp_client.ts ping sends and gets back a datagram of the maximum size", async () => {
  await using server = echoServer();
  const result = await client(
    ["--port", String(server.addr.port), "--count", "1", "--size", "65507"],
  ).finish();
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^65507 bytes from 127\.0\.0\.1:\d+: seq=1 /m);
});

Deno.test("udp_client.ts refuses a ping size over the UDP maximum as a usage error", async () => {
  const result = await client(["--count", "1", "--size", "65508"]).finish();
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--size: 65508 is out of range/);
});

Deno.test("udp_client.ts ping through a lossy relay reports exactly the relay's loss, duplicates and reordering", async () => {
  await using server = echoServer();
  await using relay = new LossyRelay(server.addr, {
    dropEvery: 5, // requests 5, 10, 15, 20, 25, 30
    duplicate: new Set([2, 7, 11]), // by reply order
    reorder: new Set([3, 13]),
  });
  const result = await client([
    "--port",
    String(relay.addr.port),
    "--count",
    "30",
    "--interval",
    "0",
    // Only dropped probes wait this long; nothing else depends on it.
    "--timeout",
    "2",
  ]).finish();
  const record = relay.record;
  assert.equal(record.dropped, 6);
  assert.deepEqual(record.droppedSeqs, [5, 10, 15, 20, 25, 30]);
  assert.equal(record.duplicated, 3);
  assert.equal(record.reordered, 2);
  assert.equal(relay.holding, false);
  assert.deepEqual(pingSummary(result.stdout), {
    transmitted: 30,
    received: 30 - record.dropped,
    loss: 20,
    duplicates: record.duplicated,
    reordered: record.reordered,
    late: 0,
  });
  assert.equal(result.stdout.match(/\(DUP!\)$/gm)?.length, 3);
  assert.equal(result.stdout.match(/\(reordered\)$/gm)?.length, 2);
  for (const seq of record.droppedSeqs) {
    assert.match(result.stdout, new RegExp(`^no reply for seq=${seq} within 2000 ms$`, "m"));
  }
  assert.equal(result.code, 0);
});

Deno.test("udp_client.ts --message retries through a relay that drops its first datagram", async () => {
  await using server = echoServer();
  await using relay = new LossyRelay(server.addr, {
    dropEvery: 0,
    dropRequests: new Set([1]),
    duplicate: new Set([1]), // and the reply to the resend comes twice: printed once
    reorder: new Set(),
  });
  const result = await client([
    "--port",
    String(relay.addr.port),
    "--message",
    "hello",
    "--timeout",
    "0.5",
  ]).finish();
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "hello\n");
  // At least one resend (the first datagram was dropped); a loaded machine that
  // answers after the 0.5 s timeout may add more, which is not what this checks.
  const tries = Number(result.stderr.match(/\(reply after (\d+) tries/)?.[1]);
  assert.ok(tries >= 2, result.stderr);
  assert.equal(relay.record.dropped, 1);
});

Deno.test("udp_client.ts stdin mode prints each reply in order despite loss and duplicates", async () => {
  await using server = echoServer();
  await using relay = new LossyRelay(server.addr, {
    dropEvery: 3,
    duplicate: new Set([1, 4, 6]),
    reorder: new Set(),
  });
  const lines = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`);
  const proc = client(
    // 0.5 s per try, 6 tries: a reply late on a loaded machine is resent, not lost.
    ["--port", String(relay.addr.port), "--timeout", "0.5", "--retries", "5"],
    { stdin: "piped" },
  );
  await writeAndClose(proc.child, lines.join("\n") + "\n");
  const result = await proc.finish();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, lines.join("\n") + "\n");
  assert.ok(relay.record.dropped >= 3, `the relay dropped ${relay.record.dropped}`);
});

Deno.test("udp_client.ts stdin mode sends an empty line as a datagram with an empty payload", async () => {
  await using server = echoServer();
  const proc = client(["--port", String(server.addr.port)], { stdin: "piped" });
  await writeAndClose(proc.child, "a\n\nb\n");
  const result = await proc.finish();
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "a\n\nb\n");
  assert.equal(server.stats.replied, 3);
});

Deno.test("udp_client.ts stdin mode refuses a line too long for one datagram", async () => {
  await using server = echoServer();
  const proc = client(["--port", String(server.addr.port)], { stdin: "piped" });
  await writeAndClose(proc.child, "x".repeat(65_492) + "\n");
  const result = await proc.finish();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /65491/);
  assert.match(result.stderr, /a UDP datagram holds at most 65507 bytes/);
});

Deno.test("udp_client.ts --bench reports round trips per second", async () => {
  // Regression: with the default per-source limit (10,000/s) a fast machine
  // runs the bucket dry within the 0.4 s run and the dropped probes count as
  // lost, so the outcome depended on the machine's speed. The bench measures
  // the client, so the server runs without a limit, as `--rate 0` does.
  await using server = echoServer("127.0.0.1", 0);
  const result = await client([
    "--port",
    String(server.addr.port),
    "--bench",
    "--in-flight",
    "4",
    "--duration",
    "0.3",
    "--warmup",
    "0.1",
  ]).finish();
  assert.equal(result.code, 0, result.stderr);
  const match = result.stdout.match(/4 in flight x 64 B, 0.3 s: (\d+) round trips\/s, (\d+) lost/);
  assert.ok(match, result.stdout);
  assert.ok(Number(match[1]) > 0);
  assert.equal(match[2], "0");
});

Deno.test("udp_client.ts --bench with no echo at all names the server's rate limit as a cause", async () => {
  // Regression (newcomer trial B5): against a rate-limiting server the bench
  // could get nothing back and only asked "is the server running?". A socket
  // that never answers stands in for a server dropping everything.
  const silent = udpSocket();
  try {
    const result = await client([
      "--port",
      String((silent.addr as Deno.NetAddr).port),
      "--bench",
      "--duration",
      "0.1",
      "--warmup",
      "0",
      "--timeout",
      "0.1",
    ]).finish();
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: no echo from 127\.0\.0\.1:\d+: is the server running\?/);
    assert.match(result.stderr, /rate limit: start udp_echo_server\.ts with --rate 0/);
  } finally {
    silent.close();
  }
});

Deno.test("udp_client.ts --help says to start the bench's server with --rate 0", async () => {
  const help = await client(["--help"]).finish();
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--bench +Measure .*--rate 0/);
  assert.match(help.stdout, /deno task udp-server --rate 0/);
});

Deno.test("udp_client.ts --help exits 0; conflicting modes exit 2", async () => {
  const help = await client(["--help"]).finish();
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--unstable-net/);
  assert.match(help.stdout, /--retries/);
  const conflict = await client(["--bench", "--message", "x"]).finish();
  assert.equal(conflict.code, 2);
  assert.match(conflict.stderr, /choose one of/);
});

Deno.test("udp_client.ts without net permission names the flag to add", async () => {
  const result = await client(["--host", "::1", "--message", "x"]).finish();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--allow-net=\[::1\]/);
});

/**
 * Runs `use` against a socat UDP echo server. Without `fork`, socat serves
 * the first peer only and has no children holding its output pipes open.
 */
async function withSocatEcho(use: (port: string) => Promise<void>): Promise<void> {
  const socat = spawn("socat", ["-d", "-d", "-T", "10", "UDP-LISTEN:0,bind=127.0.0.1", "PIPE"]);
  try {
    const [, port] = await socat.stderr.waitFor(/listening on UDP AF=2 127\.0\.0\.1:(\d+)/);
    await use(port!);
  } finally {
    socat.child.kill("SIGTERM");
    await socat.finish();
  }
}

Deno.test("socat as an echo server answers our client's message, ping and stdin modes", {
  ignore: NO_SOCAT,
}, async () => {
  await withSocatEcho(async (port) => {
    const message = await client(["--port", port, "--message", "to socat"]).finish();
    assert.equal(message.stdout, "to socat\n");
  });
  await withSocatEcho(async (port) => {
    // socat's PIPE is a byte stream: datagrams that reach it together come
    // back as one. Spacing the probes keeps them apart (ping mode does not
    // wait for replies); our own server never merges datagrams.
    const ping = await client(["--port", port, "--count", "3", "--interval", "0.1"]).finish();
    assert.equal(pingSummary(ping.stdout).received, 3);
  });
  await withSocatEcho(async (port) => {
    const proc = client(["--port", port], { stdin: "piped" });
    await writeAndClose(proc.child, "x\ny\n");
    assert.equal((await proc.finish()).stdout, "x\ny\n");
  });
});

Deno.test("nc -u as a server receives our client's message and its typed reply is printed", {
  ignore: NO_NC,
}, async () => {
  const nc = spawn("nc", ["-v", "-u", "-l", "127.0.0.1", "0"], "piped");
  const writer = nc.child.stdin.getWriter();
  try {
    const [, port] = await nc.stderr.waitFor(/Bound on \S+ (\d+)/);
    const proc = client(["--port", port!, "--message", "hello nc", "--timeout", "5"]);
    await nc.stdout.waitFor(/hello nc/);
    await writer.write(new TextEncoder().encode("hello client\n"));
    const result = await proc.finish();
    assert.equal(result.code, 0);
    assert.equal(result.stdout, "hello client\n");
  } finally {
    await writer.close().catch(() => {});
    nc.child.kill("SIGTERM");
    await nc.finish();
  }
});

Deno.test("udp_client.ts --json prints the ping summary and the bench result as JSON", async () => {
  await using server = echoServer("127.0.0.1", 0);
  const port = String(server.addr.port);
  const ping = await client(["--port", port, "--count", "2", "--interval", "0", "--json"]).finish();
  assert.equal(ping.code, 0, ping.stderr);
  const summary = JSON.parse(ping.stdout);
  assert.equal(summary.transmitted, 2);
  assert.equal(summary.received, 2);
  assert.equal(summary.lossPercent, 0);
  assert.ok(summary.rttMs.max >= summary.rttMs.min);
  const bench = await client([
    "--port",
    port,
    "--bench",
    "--json",
    "--duration",
    "0.2",
    "--warmup",
    "0",
  ]).finish();
  assert.equal(bench.code, 0, bench.stderr);
  const report = JSON.parse(bench.stdout);
  assert.equal(report.inFlight, 1);
  assert.ok(report.roundTrips > 0);
  // The same keys on every client, so figures can be compared by a program.
  for (const key of ["target", "inFlight", "size", "seconds", "latencyMs", "clientCpu"]) {
    assert.ok(key in report, key);
  }
});

Deno.test("udp_client.ts refuses a --message too long for one datagram as a usage error", async () => {
  const result = await client(["--port", "9", "--message", "x".repeat(65_508)]).finish();
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--message is 65508 bytes; a UDP datagram holds at most 65507/);
});

Deno.test("udp_client's advice names both flags when a remote server means binding the wildcard address", () => {
  // Socketless on purpose: a test never targets an address off loopback, not even one that a
  // permission check would refuse first. The bind error is built as listenUdp throws it.
  const bind = new ListenError(new Deno.errors.NotCapable("x"), "0.0.0.0", 0);
  assert.match(
    explainUdpError(bind, { hostname: "192.0.2.1", port: 7001 }),
    /permission denied: run with --allow-net=0\.0\.0\.0,192\.0\.2\.1 to bind 0\.0\.0\.0/,
  );
});

Deno.test("udp_client.ts without --unstable-net says how to enable UDP", async () => {
  const result = await runScript("udp_client.ts", ["--message", "x"], {
    denoFlags: ["--no-config", "--allow-net=127.0.0.1"],
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Deno\.listenDatagram is unstable, run with --unstable-net/);
});
