/**
 * # Baseline: the bare read-loop TCP echo
 *
 * The obvious hand-written Deno echo server, with no limits, logging or
 * shutdown handling: the yardstick `deno task bench` measures our
 * `tcp_echo_server.ts` against. Not meant for use; see the real server.
 *
 * Run: `deno run --allow-net=127.0.0.1 scripts/bench/baselines/tcp_echo_baseline.ts 0`
 * (the argument is the port; it prints `listening on 127.0.0.1:PORT`).
 *
 * @module
 */

if (Deno.args[0] === "--help" || Deno.args[0] === "-h") {
  console.log(
    "Usage: deno run --allow-net=127.0.0.1 scripts/bench/baselines/tcp_echo_baseline.ts [PORT]\nThe bare read-loop TCP echo that `deno task bench` measures tcp_echo_server.ts against.",
  );
  Deno.exit(0);
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 0) });
console.log(`listening on 127.0.0.1:${listener.addr.port}`);

async function echo(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(65_536);
  try {
    for (let n; (n = await conn.read(buffer)) !== null;) {
      let written = 0;
      while (written < n) written += await conn.write(buffer.subarray(written, n));
    }
  } catch {
    // A reset peer ends this connection only.
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

for await (const conn of listener) echo(conn);
