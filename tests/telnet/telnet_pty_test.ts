import assert from "node:assert/strict";
import { Logger } from "../../lib/cli/log.ts";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { type TelnetCommand, TelnetFilter } from "../../lib/telnet/telnet_filter.ts";
import { serveTcp } from "../../lib/tcp/serve_tcp.ts";
import { haveTelnetPty, TelnetPty } from "../helpers/telnet_pty.ts";

const HAVE_TELNET = await haveTelnetPty();

/**
 * A line server with the telnet layer in front of its line decoder, as the
 * chat's TCP port will have: answers each line with `got: LINE`, and records
 * the lines and commands it saw.
 */
function lineServer(lines: string[], commands: TelnetCommand[]) {
  return serveTcp(async (conn) => {
    const telnet = new TelnetFilter();
    const decoder = new LineDecoder();
    const reader = new ChunkReader(conn);
    for (let chunk; (chunk = await reader.read()) !== null;) {
      const out = telnet.push(chunk);
      // Answer negotiation first: it refers to what came before the chunk's data.
      if (out.reply.length > 0) await writeAll(conn, out.reply);
      commands.push(...out.commands);
      decoder.push(out.data);
      for (let line; (line = decoder.next()) !== null;) {
        if (line === "") continue;
        lines.push(line);
        await writeAll(conn, new TextEncoder().encode(`got: ${line}\r\n`));
      }
    }
  }, { logger: new Logger({ level: "error" }) });
}

// Regression (issue 10, section 3): telnet sends IAC IP IAC DO TIMING-MARK
// for Ctrl+C and discards all output until the server answers the timing
// mark; a server that never answers is silent to that user from then on.
Deno.test({
  name:
    "the real telnet on a pty: lines arrive clean, and after Ctrl+C the user still sees replies",
  ignore: !HAVE_TELNET,
  async fn() {
    const lines: string[] = [];
    const commands: TelnetCommand[] = [];
    await using server = lineServer(lines, commands);
    await using telnet = await TelnetPty.open(server.addr.port);
    let mark = telnet.output.length;
    await telnet.typeLine("hello");
    await telnet.waitFor(/got: hello\r\n/, mark);
    mark = telnet.output.length;
    await telnet.ctrlC();
    await telnet.typeLine("after ctrl-c");
    await telnet.waitFor(/got: after ctrl-c\r\n/, mark);
    assert.deepEqual(lines, ["hello", "after ctrl-c"], "no IAC bytes reached the lines");
    assert.deepEqual(commands, ["IP"]);
  },
});
