/**
 * # Baseline: the runtime's own WebSocket server
 *
 * `Deno.serve` with `Deno.upgradeWebSocket`, the way the runtime's documentation writes a
 * WebSocket server, with `/echo` and `/broadcast` like `scripts/ws_server.ts` and no limits:
 * the yardstick `scripts/bench/bench_ws.ts` measures our server against. Not meant for use.
 *
 * Run: `deno run --allow-net=127.0.0.1 scripts/bench/baselines/ws_echo_baseline.ts 0`
 * (the argument is the port; it prints `listening on http://127.0.0.1:PORT`).
 *
 * @module
 */

if (Deno.args[0] === "--help" || Deno.args[0] === "-h") {
  console.log(
    "Usage: deno run --allow-net=127.0.0.1 scripts/bench/baselines/ws_echo_baseline.ts [PORT]\nThe bare Deno.serve + Deno.upgradeWebSocket server that `deno task bench` measures ws_server.ts against.",
  );
  Deno.exit(0);
}

const clients = new Set<WebSocket>();

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.args[0] ?? 0),
  onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
}, (request) => {
  // Like ws_server.ts, an upgrade at / is the echo, for tools that cannot choose a path.
  const path = new URL(request.url).pathname;
  if (
    request.headers.get("upgrade") !== "websocket" || !["/", "/echo", "/broadcast"].includes(path)
  ) {
    return new Response("not found\n", { status: 404 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  if (path !== "/broadcast") {
    socket.onmessage = (event) => socket.send(event.data);
  } else {
    socket.onopen = () => clients.add(socket);
    socket.onclose = () => clients.delete(socket);
    socket.onmessage = (event) => {
      for (const other of clients) if (other !== socket) other.send(event.data);
    };
  }
  socket.onerror = () => {}; // a client that resets is not the baseline's concern
  return response;
});

await server.finished;
