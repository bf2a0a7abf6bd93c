/**
 * The demo's echo sections: TCP echo, UDP ping and WebSocket echo, each server with its
 * client.
 *
 * @module
 */

import { expect, indent, NET, runClient, show, startServer } from "./transcript.ts";

export async function tcpEcho(): Promise<void> {
  console.log("\n== TCP echo: a server that sends every byte back ==");
  const server = await startServer("tcp_echo_server.ts", [NET], ["--port", "0"]);
  try {
    const port = String(server.port);
    expect(
      await runClient("tcp_echo_client.ts", [NET], ["--port", port, "--message", "hello, echo"]),
      "hello, echo\n",
      "one-shot echo",
    );
    expect(
      await runClient("tcp_echo_client.ts", [NET], ["--port", port], "line one\nline two\n"),
      "line one\nline two\n",
      "pipe mode",
    );
  } finally {
    const log = await server.stop();
    show("kill -INT %1   # Ctrl+C: the server closes its clients and prints totals");
    indent(
      log.filter((line) => /shut down/.test(line)).map((line) => line.replace(/^\S+ \w+\s+/, ""))
        .join("\n"),
    );
  }
}

export async function udpPair(): Promise<void> {
  console.log("\n== UDP echo: datagrams, timeouts and retries, ping statistics ==");
  const UDP = ["--unstable-net", NET];
  const server = await startServer("udp_echo_server.ts", UDP, ["--port", "0"]);
  try {
    const port = String(server.port);
    expect(
      await runClient("udp_client.ts", UDP, ["--port", port, "--message", "hello, udp"]),
      "hello, udp\n",
      "one-shot datagram",
    );
    expect(
      await runClient("udp_client.ts", UDP, ["--port", port], "one datagram\nanother\n"),
      "one datagram\nanother\n",
      "stdin mode",
    );
    const ping = await runClient("udp_client.ts", UDP, [
      "--port",
      port,
      "--count",
      "3",
      "--interval",
      "0.2",
    ]);
    if (!/3 datagrams transmitted, 3 received, 0% loss/.test(ping)) {
      throw new Error(`udp ping: unexpected summary ${JSON.stringify(ping)}`);
    }
  } finally {
    const log = await server.stop();
    show("kill -INT %1   # Ctrl+C: the server closes its socket and prints its counters");
    indent(
      log.filter((line) => /shut down/.test(line))
        .map((line) => line.replace(/^\S+ \w+\s+/, "")).join("\n"),
    );
  }
}

export async function webSocket(): Promise<void> {
  console.log(
    "\n== WebSocket: echo over RFC 6455 frames, with the runtime's WebSocket as client ==",
  );
  const server = await startServer("ws_server.ts", [NET], ["--port", "0"]);
  try {
    const url = `ws://127.0.0.1:${server.port}/echo`;
    expect(
      await runClient("ws_client.ts", [NET], [url, "--message", "hello, websocket"]),
      "hello, websocket\n",
      "one-shot WebSocket echo",
    );
    expect(
      await runClient("ws_client.ts", [NET], [url], "line one\nline two\n"),
      "line one\nline two\n",
      "WebSocket pipe mode",
    );
  } finally {
    const log = await server.stop();
    show("kill -INT %1   # Ctrl+C: Close 1001 to any client still connected, then exit 0");
    indent(
      log.filter((line) => /opened|closed|shut down/.test(line))
        .map((line) => line.replace(/^\S+ \w+\s+/, "")).join("\n"),
    );
  }
}
