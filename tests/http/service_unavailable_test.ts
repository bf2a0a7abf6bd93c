import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import {
  encodeServiceUnavailable,
  refuseWithServiceUnavailable,
} from "../../lib/http/service_unavailable.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { serveTcp, type TcpServer } from "../../lib/tcp/serve_tcp.ts";
import { missingTool } from "../helpers/external_tool.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

Deno.test("encodeServiceUnavailable writes a 503 with Retry-After, Connection: close and the reason", () => {
  assert.equal(
    decoder.decode(encodeServiceUnavailable("Chat full (100 clients), try again later", {
      retryAfter: 30,
    })),
    "HTTP/1.1 503 Service Unavailable\r\n" +
      "Retry-After: 30\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      "Connection: close\r\n" +
      "Content-Length: 41\r\n" +
      "\r\n" +
      "Chat full (100 clients), try again later\n",
  );
});

Deno.test("encodeServiceUnavailable refuses a reason of two lines and a bad Retry-After", () => {
  assert.throws(() => encodeServiceUnavailable("busy\r\nSet-Cookie: x=1"), TypeError);
  assert.throws(() => encodeServiceUnavailable("busy", { retryAfter: -1 }), RangeError);
  assert.throws(() => encodeServiceUnavailable("busy", { retryAfter: 1.5 }), RangeError);
});

/** A server that serves one connection (held until `release`) and refuses the rest with 503. */
function fullServer(release: Promise<void>): TcpServer {
  return serveTcp(async (conn) => {
    await writeAll(conn, encoder.encode("held\n"));
    await release;
  }, {
    maxConnections: 1,
    logger: new Logger({ level: "error" }),
    refuse: refuseWithServiceUnavailable({ retryAfter: 7, reason: "Server full, try later" }),
  });
}

Deno.test("refuseWithServiceUnavailable: fetch() over the limit gets a real 503 with Retry-After", async () => {
  const release = Promise.withResolvers<void>();
  await using server = fullServer(release.promise);
  try {
    using held = await Deno.connect({ port: server.addr.port });
    assert.equal(decoder.decode((await new ChunkReader(held).read())!), "held\n");
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
      method: "POST",
      body: "x".repeat(100_000), // a request body the server never reads: drained, not reset
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "7");
    assert.equal(await response.text(), "Server full, try later\n");
  } finally {
    release.resolve();
  }
});

const HAS_PY_WEBSOCKETS =
  !(await missingTool("/usr/bin/python3", ["-c", "import websockets.client"]));

const PYTHON_CLIENT = `
import asyncio, sys
from websockets.client import connect

async def main(port):
    try:
        async with connect(f"ws://127.0.0.1:{port}/echo", open_timeout=10):
            print("opened")
    except Exception as error:
        print(type(error).__name__, getattr(error, "status_code", None) or getattr(getattr(error, "response", None), "status_code", None))

asyncio.run(main(int(sys.argv[1])))
`;

Deno.test({
  name: "refuseWithServiceUnavailable: Python's websockets sees an HTTP 503, not a broken response",
  ignore: !HAS_PY_WEBSOCKETS,
  async fn() {
    const release = Promise.withResolvers<void>();
    await using server = fullServer(release.promise);
    try {
      using held = await Deno.connect({ port: server.addr.port });
      assert.equal(decoder.decode((await new ChunkReader(held).read())!), "held\n");
      const output = await new Deno.Command("/usr/bin/python3", {
        args: ["-c", PYTHON_CLIENT, String(server.addr.port)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        decoder.decode(output.stdout).trim(),
        "InvalidStatusCode 503",
        decoder.decode(output.stderr),
      );
    } finally {
      release.resolve();
    }
  },
});
