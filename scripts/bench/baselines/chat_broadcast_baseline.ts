/**
 * # Baseline: a bare broadcast loop
 *
 * The obvious hand-written Deno chat relay, with no limits, no sanitising, no
 * rooms or commands and no shutdown handling: the yardstick
 * `scripts/bench/bench_chat.ts` measures `chat_server.ts` against. The first line
 * of a connection is its nick (answered with `*** You are NICK.`); every
 * later line goes to every other connection as `[hh:mm] <nick> text`, the
 * same bytes our server sends. Each connection's writes are chained so lines
 * stay whole and in order. Not meant for use: one client that stops reading
 * makes its chain, and the server's memory, grow without bound.
 *
 * Run: `deno run --allow-net=127.0.0.1 scripts/bench/baselines/chat_broadcast_baseline.ts 0`
 * (the argument is the port; it prints `listening on 127.0.0.1:PORT`).
 *
 * @module
 */

if (Deno.args[0] === "--help" || Deno.args[0] === "-h") {
  console.log(
    "Usage: deno run --allow-net=127.0.0.1 scripts/bench/baselines/chat_broadcast_baseline.ts [PORT]\nThe bare broadcast loop that `deno task bench` measures chat_server.ts against.",
  );
  Deno.exit(0);
}

import { ChunkReader } from "../../../lib/io/chunk_reader.ts";
import { LineDecoder } from "../../../lib/framing/line_decoder.ts";
import { writeAll } from "../../../lib/io/write_all.ts";

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 0) });
console.log(`listening on 127.0.0.1:${listener.addr.port}`);

const encoder = new TextEncoder();
/** Every connection and the promise its last write ends with. */
const peers = new Map<Deno.Conn, Promise<void>>();

function send(conn: Deno.Conn, bytes: Uint8Array): void {
  const previous = peers.get(conn);
  if (previous === undefined) return;
  peers.set(conn, previous.then(() => writeAll(conn, bytes)).catch(() => {}));
}

function stamp(): string {
  const now = new Date();
  return `[${String(now.getHours()).padStart(2, "0")}:${
    String(now.getMinutes()).padStart(2, "0")
  }]`;
}

async function relay(conn: Deno.TcpConn): Promise<void> {
  // Like chat_server.ts: small lines go out at once instead of waiting for Nagle's algorithm.
  conn.setNoDelay(true);
  peers.set(conn, Promise.resolve());
  const reader = new ChunkReader(conn);
  const decoder = new LineDecoder();
  let nick: string | undefined;
  try {
    for (let chunk; (chunk = await reader.read()) !== null;) {
      decoder.push(chunk);
      for (let line; (line = decoder.next()) !== null;) {
        if (nick === undefined) {
          nick = line;
          send(conn, encoder.encode(`*** You are ${nick}.\n`));
          continue;
        }
        const bytes = encoder.encode(`${stamp()} <${nick}> ${line}\n`);
        for (const other of peers.keys()) if (other !== conn) send(other, bytes);
      }
    }
  } catch {
    // A reset peer ends this connection only.
  } finally {
    peers.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

for await (const conn of listener) relay(conn as Deno.TcpConn);
