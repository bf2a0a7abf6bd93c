/**
 * scripts/udp_proxy.ts end to end: the UDP client's ping through it
 * reports exactly the loss, duplicates and reordering the proxy caused, and
 * a seed repeats a run. The test predicts the proxy's counts from the seed
 * with the same library code, so the figures are exact, not statistical.
 */

import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { DatagramFaultSchedule } from "../../lib/proxy/fault_schedule.ts";
import { SeededRandom } from "../../lib/proxy/seeded_random.ts";
import { serveUdp } from "../../lib/udp/serve_udp.ts";
import { runScript, startScript } from "../helpers/script_process.ts";
import { receiveWithin, udpSocket } from "../helpers/udp.ts";

const PROXY = "udp_proxy.ts";
const FLAGS = ["--unstable-net", "--allow-net=127.0.0.1"];
const decoder = new TextDecoder();

interface Counts {
  received: number;
  sent: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

/** Pings through a fresh proxy with `faults`; returns the ping summary and the proxy's counts. */
async function pingThroughProxy(faults: string[], count: number) {
  await using echo = serveUdp((datagram) => datagram, { logger: new Logger({ level: "error" }) });
  await using proxy = await startScript(
    PROXY,
    ["--port", "0", "--to", `127.0.0.1:${echo.addr.port}`, "--json", ...faults],
    { denoFlags: FLAGS },
  );
  const ping = await runScript(
    "udp_client.ts",
    ["--port", String(proxy.port), "--count", String(count), "--interval", "0.005"],
    { denoFlags: FLAGS },
  );
  const stdout = decoder.decode(ping.stdout);
  const status = await proxy.interrupt();
  assert.equal(status.code, 0, proxy.stderr.join("\n"));
  const match = stdout.match(
    /(\d+) datagrams transmitted, (\d+) received, [\d.]+% loss, (\d+) duplicates, (\d+) reordered, (\d+) late/,
  );
  assert.ok(match, `no ping summary in:\n${stdout}\n${ping.stderr}`);
  const [transmitted, received, duplicates, reordered, late] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const proxyCounts = JSON.parse(proxy.stdout.at(-1)!) as {
    seed: number;
    up: Counts;
    down: Counts;
  };
  return {
    stdout,
    client: { transmitted, received, duplicates, reordered, late },
    proxy: proxyCounts,
  };
}

/** The fates the proxy draws for its first client's `direction` (0 up, 1 down). */
function fates(seed: number, direction: 0 | 1, options: { duplicate?: number; reorder?: number }) {
  const random = new SeededRandom(seed).fork(direction);
  return new DatagramFaultSchedule({ ...options, random: () => random.next() });
}

Deno.test("udp_proxy.ts --help prints usage with exit 0; a bad --to exits 2", async () => {
  const help = await runScript(PROXY, ["--help"], { denoFlags: FLAGS });
  assert.equal(help.code, 0);
  assert.match(decoder.decode(help.stdout), /--loss FRACTION/);
  assert.match(decoder.decode(help.stdout), /--seed N/);
  const bad = await runScript(PROXY, ["--to", "nowhere"], { denoFlags: FLAGS });
  assert.equal(bad.code, 2);
});

Deno.test("udp_client ping through udp_proxy.ts --loss 0.25 --seed 1 reports exactly the proxy's loss, and the seed repeats it", async () => {
  const first = await pingThroughProxy(["--loss", "0.25", "--seed", "1"], 40);
  const lost = first.proxy.up.lost + first.proxy.down.lost;
  assert.ok(lost > 0, "a quarter lost each way, yet nothing was lost");
  assert.equal(first.client.transmitted - first.client.received, lost);
  assert.equal(first.client.duplicates + first.client.late, 0);
  const second = await pingThroughProxy(["--loss", "0.25", "--seed", "1"], 40);
  assert.deepEqual(second.proxy, first.proxy);
  assert.deepEqual(second.client, first.client);
});

Deno.test("udp_client ping through udp_proxy.ts --duplicate shows each duplicate the proxy made as DUP!", async () => {
  // A duplicate of the very last reply may arrive after the client has
  // printed its summary: pick a count whose last probe is not duplicated
  // either way (the seed makes this known in advance).
  const seed = 1;
  let count = 30;
  for (;; count++) {
    const up = fates(seed, 0, { duplicate: 0.3 });
    const down = fates(seed, 1, { duplicate: 0.3 });
    let lastClean = true;
    for (let i = 0; i < count; i++) {
      const request = up.next().duplicated;
      const replies = Array.from({ length: request ? 2 : 1 }, () => down.next().duplicated);
      lastClean = !request && !replies.some(Boolean);
    }
    if (lastClean) break;
  }
  const run = await pingThroughProxy(["--duplicate", "0.3", "--seed", String(seed)], count);
  const made = run.proxy.up.duplicated + run.proxy.down.duplicated;
  assert.ok(made > 0);
  assert.equal(run.client.duplicates, made);
  assert.equal(run.stdout.match(/\(DUP!\)/g)?.length, made);
  assert.equal(run.client.received, count);
});

Deno.test("udp_client ping through udp_proxy.ts --reorder --direction down counts each reordered reply", async () => {
  const run = await pingThroughProxy(
    ["--reorder", "0.3", "--direction", "down", "--max-hold", "200", "--seed", "1"],
    40,
  );
  assert.equal(run.proxy.up.reordered, 0);
  assert.ok(run.proxy.down.reordered > 0);
  assert.equal(run.client.reordered, run.proxy.down.reordered);
  assert.equal(run.stdout.match(/\(reordered\)/g)?.length, run.proxy.down.reordered);
  assert.equal(run.client.received, 40);
});

Deno.test("udp_proxy.ts routes each client's replies back to it, evicts beyond --max-sessions and expires idle sessions", async () => {
  await using echo = serveUdp((datagram) => datagram, { logger: new Logger({ level: "error" }) });
  await using proxy = await startScript(PROXY, [
    "--port",
    "0",
    "--to",
    `127.0.0.1:${echo.addr.port}`,
    "--max-sessions",
    "1",
    "--idle-timeout",
    "0.2",
    "--json",
  ], { denoFlags: FLAGS });
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: proxy.port };
  const a = udpSocket();
  const b = udpSocket();
  try {
    await a.send(new TextEncoder().encode("from a"), to);
    assert.equal(decoder.decode((await receiveWithin(a))[0]), "from a");
    // b's session takes the only slot: a's is evicted.
    await b.send(new TextEncoder().encode("from b"), to);
    assert.equal(decoder.decode((await receiveWithin(b))[0]), "from b");
    await proxy.waitForLine(/session 127\.0\.0\.1:\d+ evicted/);
    await proxy.waitForLine(/session 127\.0\.0\.1:\d+ expired after 0\.2 s idle/);
  } finally {
    a.close();
    b.close();
  }
  assert.equal((await proxy.interrupt()).code, 0);
  const summary = JSON.parse(proxy.stdout.at(-1)!);
  assert.deepEqual(summary.sessions, { opened: 2, expired: 1, evicted: 1 });
});
