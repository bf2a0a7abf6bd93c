/**
 * # Baseline: a TCP sink
 *
 * Reads each connection to EOF, discarding the bytes, then writes back how
 * many it read (as decimal text and a newline) and closes: the receiving
 * end of `deno task bench:proxy`'s one-way stream figure. Not meant for use.
 *
 * Run: `deno run --allow-net=127.0.0.1 scripts/bench/baselines/tcp_sink_baseline.ts 0`
 * (the argument is the port; it prints `listening on 127.0.0.1:PORT`).
 *
 * @module
 */

if (Deno.args[0] === "--help" || Deno.args[0] === "-h") {
  console.log(
    "Usage: deno run --allow-net=127.0.0.1 scripts/bench/baselines/tcp_sink_baseline.ts [PORT]\nReads each connection to EOF, then writes back the byte count.",
  );
  Deno.exit(0);
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 0) });
console.log(`listening on 127.0.0.1:${listener.addr.port}`);

async function sink(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(262_144);
  let bytes = 0;
  try {
    for (let n; (n = await conn.read(buffer)) !== null;) bytes += n;
    await conn.write(new TextEncoder().encode(`${bytes}\n`));
  } catch {
    // The client left: nothing to report to.
  } finally {
    conn.close();
  }
}

Deno.addSignalListener("SIGINT", () => listener.close());
for (;;) {
  let conn: Deno.Conn;
  try {
    conn = await listener.accept();
  } catch (error) {
    if (error instanceof Deno.errors.BadResource) break;
    continue;
  }
  sink(conn).catch(() => {});
}
