/**
 * # Baseline: the least a WebSocket echo over `Deno.Conn` can do
 *
 * A read loop over `Deno.Conn` that answers the opening handshake, then unmasks each text
 * frame, checks its UTF-8 with `TextDecoder` and writes the echo: no limits, no control
 * frames, no fragments, payloads under 64 KiB. It is the floor for any WebSocket written in
 * JavaScript over the runtime's sockets, measured beside `scripts/ws_server.ts` and the
 * runtime's own server (`ws_echo_baseline.ts`) for the ping-pong figure in the README. Not
 * meant for use.
 *
 * Run: `deno run --allow-net=127.0.0.1 scripts/bench/baselines/ws_conn_baseline.ts 0`
 * (the argument is the port; it prints `listening on ws://127.0.0.1:PORT`).
 *
 * @module
 */

if (Deno.args[0] === "--help" || Deno.args[0] === "-h") {
  console.log(
    "Usage: deno run --allow-net=127.0.0.1 scripts/bench/baselines/ws_conn_baseline.ts [PORT]\nA bare WebSocket echo read loop over Deno.Conn: the floor ws_server.ts is compared with.",
  );
  Deno.exit(0);
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 0) });
console.log(`listening on ws://127.0.0.1:${listener.addr.port}`);
for await (const conn of listener) {
  echo(conn).catch(() => {
    try {
      conn.close(); // a reset or a bad frame: drop the client
    } catch { /* already closed */ }
  });
}

async function echo(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buffer = new Uint8Array(128 * 1024);
  let filled = 0;
  // The request head: read until the blank line.
  for (;;) {
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) return conn.close();
    filled += n;
    const head = new TextDecoder().decode(buffer.subarray(0, filled));
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? "";
    const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
    const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
    await conn.write(encoder.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    ));
    buffer.copyWithin(0, end + 4, filled);
    filled -= end + 4;
    break;
  }
  for (;;) {
    // Every complete frame in the buffer, echoed in one write.
    const replies: Uint8Array[] = [];
    let at = 0;
    while (filled - at >= 6) {
      const length = buffer[at + 1]! & 0x7f;
      const header = length === 126 ? 8 : 6;
      const size = length === 126 ? (buffer[at + 2]! << 8) | buffer[at + 3]! : length;
      if (length === 127 || (buffer[at]! & 0x0f) === 0x8) return conn.close();
      if (filled - at < header + size) break;
      const payload = buffer.subarray(at + header, at + header + size);
      const mask = buffer.subarray(at + header - 4, at + header);
      for (let i = 0; i < size; i++) payload[i]! ^= mask[i & 3]!;
      const data = encoder.encode(utf8.decode(payload));
      const reply = new Uint8Array((data.length < 126 ? 2 : 4) + data.length);
      reply[0] = 0x81;
      if (data.length < 126) reply[1] = data.length;
      else reply.set([126, data.length >> 8, data.length & 0xff], 1);
      reply.set(data, reply.length - data.length);
      replies.push(reply);
      at += header + size;
    }
    buffer.copyWithin(0, at, filled);
    filled -= at;
    if (replies.length > 0) {
      let out = replies[0]!;
      if (replies.length > 1) {
        out = new Uint8Array(replies.reduce((sum, reply) => sum + reply.length, 0));
        let offset = 0;
        for (const reply of replies) out.set(reply, (offset += reply.length) - reply.length);
      }
      for (let written = 0; written < out.length;) {
        written += await conn.write(out.subarray(written));
      }
    }
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) return conn.close();
    filled += n;
  }
}
