/**
 * # Baseline: the bare `Deno.listenDatagram` UDP echo
 *
 * The obvious hand-written Deno UDP echo server, with no limits, logging or
 * shutdown handling: the yardstick `scripts/bench/bench_udp.ts` measures our
 * `udp_echo_server.ts` against. Not meant for use; see the real server.
 *
 * Run: `deno run --unstable-net --allow-net=127.0.0.1 scripts/bench/baselines/udp_echo_baseline.ts 0`
 * (the argument is the port; it prints `listening on 127.0.0.1:PORT`).
 *
 * @module
 */

if (Deno.args[0] === "--help" || Deno.args[0] === "-h") {
  console.log(
    "Usage: deno run --unstable-net --allow-net=127.0.0.1 scripts/bench/baselines/udp_echo_baseline.ts [PORT]\nThe bare Deno.listenDatagram echo that `deno task bench` measures udp_echo_server.ts against.",
  );
  Deno.exit(0);
}

const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: "127.0.0.1",
  port: Number(Deno.args[0] ?? 0),
});
console.log(`listening on 127.0.0.1:${(socket.addr as Deno.NetAddr).port}`);

for await (const [data, addr] of socket) {
  try {
    await socket.send(data, addr);
  } catch {
    // A refused reply concerns one datagram only.
  }
}
