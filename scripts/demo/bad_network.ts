/**
 * The demo's bad-network section: the TCP echo through `tcp_proxy.ts --slice 1`, the UDP
 * ping through `udp_proxy.ts --loss`.
 *
 * @module
 */

import { expect, indent, NET, runClient, show, startServer } from "./transcript.ts";

export async function badNetwork(): Promise<void> {
  console.log(
    "\n== A bad network: the echo through tcp_proxy.ts, the ping through udp_proxy.ts ==",
  );
  const echo = await startServer("tcp_echo_server.ts", [NET], ["--port", "0"]);
  const udpEcho = await startServer("udp_echo_server.ts", ["--unstable-net", NET], ["--port", "0"]);
  try {
    // Every byte in its own write: a client that takes one read() for one
    // message would print "h" here.
    const tcp = await startServer("tcp_proxy.ts", [NET], [
      "--port",
      "0",
      "--to",
      `127.0.0.1:${echo.port}`,
      "--slice",
      "1",
    ]);
    try {
      expect(
        await runClient("tcp_echo_client.ts", [NET], [
          "--port",
          String(tcp.port),
          "--message",
          "hello, one byte at a time",
        ]),
        "hello, one byte at a time\n",
        "echo through --slice 1",
      );
    } finally {
      const log = await tcp.stop();
      show("kill -INT %3   # Ctrl+C: the proxy prints each connection's bytes each way");
      indent(
        log.filter((line) => /#\d+ .* after \d+ ms/.test(line))
          .map((line) => line.replace(/^\S+ \w+\s+/, "")).join("\n"),
      );
    }
    const UDP = ["--unstable-net", NET];
    const udp = await startServer("udp_proxy.ts", UDP, [
      "--port",
      "0",
      "--to",
      `127.0.0.1:${udpEcho.port}`,
      "--loss",
      "0.25",
      "--seed",
      "1",
    ]);
    try {
      const ping = await runClient("udp_client.ts", UDP, [
        "--port",
        String(udp.port),
        "--count",
        "10",
        "--interval",
        "0.05",
        "--timeout",
        "0.3",
      ]);
      // Seed 1 loses the same datagrams on every run.
      if (!/10 datagrams transmitted, \d+ received, [1-9][\d.]*% loss/.test(ping)) {
        throw new Error(`ping through udp_proxy.ts: unexpected summary ${JSON.stringify(ping)}`);
      }
    } finally {
      await udp.stop();
    }
  } finally {
    await echo.stop();
    await udpEcho.stop();
  }
}
