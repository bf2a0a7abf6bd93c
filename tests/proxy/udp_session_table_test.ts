import assert from "node:assert/strict";
import { UdpSessionTable } from "../../lib/proxy/udp_session_table.ts";
import { SeededRandom } from "../../lib/proxy/seeded_random.ts";
import { parseHostPort } from "../../lib/proxy/parse_host_port.ts";

Deno.test("UdpSessionTable: activity postpones expiry; replies count as activity", () => {
  let now = 0;
  const table = new UdpSessionTable<number>({ idleTimeout: 100, now: () => now });
  table.add("a", 1);
  table.add("b", 2);
  now = 90;
  table.touch("a"); // a reply came back through a
  now = 100;
  assert.deepEqual(table.expire(), [["b", 2]]);
  assert.equal(table.get("a"), 1);
  now = 200;
  assert.deepEqual(table.expire(), [["a", 1]]);
});

Deno.test("UdpSessionTable: a full table evicts the least recently active", () => {
  const table = new UdpSessionTable<string>({ maxSessions: 2 });
  assert.equal(table.add("a", "A"), null);
  assert.equal(table.add("b", "B"), null);
  assert.deepEqual(table.add("c", "C"), ["a", "A"]);
  assert.equal(table.size, 2);
  assert.throws(() => table.add("c", "again"), /already has one/);
  assert.deepEqual(table.clear().map(([key]) => key), ["b", "c"]);
  assert.throws(() => new UdpSessionTable({ maxSessions: 0 }), RangeError);
});

Deno.test("SeededRandom repeats its sequence; forks are independent streams", () => {
  const take = (random: SeededRandom) => Array.from({ length: 5 }, () => random.next());
  assert.deepEqual(take(new SeededRandom(7)), take(new SeededRandom(7)));
  assert.notDeepEqual(take(new SeededRandom(7)), take(new SeededRandom(8)));
  assert.notDeepEqual(take(new SeededRandom(7).fork(0)), take(new SeededRandom(7).fork(1)));
  assert.throws(() => new SeededRandom(-1), RangeError);
  // Roughly uniform: the mean of many draws is near 0.5.
  const random = new SeededRandom(1);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) sum += random.next();
  assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
});

Deno.test("parseHostPort takes IPv4, names and bracketed IPv6, and rejects the rest", () => {
  assert.deepEqual(parseHostPort("localhost:80"), { hostname: "localhost", port: 80 });
  assert.deepEqual(parseHostPort("[::1]:7001"), { hostname: "::1", port: 7001 });
  for (const bad of ["7000", "host:", "host:0", "host:70000", "::1:7000", "a b:1"]) {
    assert.throws(() => parseHostPort(bad), SyntaxError, bad);
  }
});
