/**
 * # Chat client
 *
 * A terminal client for `chat_server.ts`: what you type goes to the server,
 * what the server sends is printed. Works interactively and with pipes, so a
 * conversation can be scripted.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 scripts/chat_client.ts --nick alice
 * ```
 *
 * Try it (with the server running): type `hello` and Enter; everyone in
 * `#lobby` sees `[12:30] <alice> hello`. Scripted:
 *
 * ```sh
 * printf 'hello\n/who\n' | deno run --allow-net=127.0.0.1 scripts/chat_client.ts --nick alice
 * ```
 *
 * prints the greeting, `*** You are alice. ...`, `*** 1 in #lobby: alice`,
 * then exits 0 once the server has answered and closed.
 *
 * Lines from the server are sanitised again before printing: a client should
 * not trust a server with its terminal either.
 *
 * Built on `Deno.connect`, wrapped by `connectTcp` in lib/tcp/connect_tcp.ts (timeout, advice).
 *
 * @module
 */

import { ChunkReader } from "../lib/io/chunk_reader.ts";
import { parseCliOrExit } from "../lib/cli/cli.ts";
import { ConnectError, connectTcp } from "../lib/tcp/connect_tcp.ts";
import { FrameTooLargeError } from "../lib/framing/frame_errors.ts";
import { LineDecoder } from "../lib/framing/line_decoder.ts";
import { isDisconnectError } from "../lib/net/net_errors.ts";
import { sanitizeText } from "../lib/chat/sanitize_text.ts";
import { closeQuietly } from "../lib/io/close_quietly.ts";
import { writeAll } from "../lib/io/write_all.ts";

/** Lines from the server longer than this are cut off (the server sends far shorter ones). */
const MAX_SERVER_LINE = 65_536;
/** After /quit on Ctrl+C, how long to wait for the server's goodbye, in ms. */
const QUIT_WAIT_MS = 1_000;

const encoder = new TextEncoder();

/** Prints every line the server sends until it closes the connection. */
async function printServerLines(conn: Deno.Conn): Promise<void> {
  const reader = new ChunkReader(conn);
  const decoder = new LineDecoder({ maxLineLength: MAX_SERVER_LINE });
  const print = (line: string) => writeAll(Deno.stdout, encoder.encode(sanitizeText(line) + "\n"));
  for (let chunk; (chunk = await reader.read()) !== null;) {
    decoder.push(chunk);
    for (;;) {
      let line: string | null;
      try {
        line = decoder.next();
      } catch (error) {
        if (!(error instanceof FrameTooLargeError)) throw error;
        line = `(a line of ${error.size} bytes from the server was dropped)`;
      }
      if (line === null) break;
      await print(line);
    }
  }
  decoder.end();
  for (let line; (line = decoder.next()) !== null;) await print(line);
}

/** Copies stdin to the server as it arrives, then half-closes so the server sees the end. */
async function sendStdin(conn: Deno.Conn): Promise<void> {
  const reader = new ChunkReader(Deno.stdin);
  for (let chunk; (chunk = await reader.read()) !== null;) await writeAll(conn, chunk);
  // "No more input": the server ends our session and closes after its last replies.
  await conn.closeWrite();
}

/** Parses flags, connects, and relays until the server closes the connection. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseCliOrExit(args, {
    name: "chat_client.ts",
    summary: "Talk to chat_server.ts: stdin lines to the server, its lines to stdout.",
    usage: ["deno run --allow-net=127.0.0.1 scripts/chat_client.ts [--nick NAME] [options]"],
    options: {
      host: { type: "string", default: "127.0.0.1", description: "Server address" },
      port: { type: "integer", default: 7002, min: 1, max: 65535, description: "Server port" },
      nick: { type: "string", description: "Nick to pick on connect", valueName: "NAME" },
    },
    notes: ["Type /help once connected for the chat's commands; /quit or Ctrl+C to leave."],
  });

  let conn: Deno.Conn;
  try {
    conn = await connectTcp({ hostname: values.host, port: values.port });
  } catch (error) {
    console.error(`error: ${error instanceof ConnectError ? error.message : error}`);
    Deno.exit(1);
  }
  if (values.nick !== undefined) await writeAll(conn, encoder.encode(`/nick ${values.nick}\n`));

  // Ctrl+C: leave politely, then exit even if the server does not answer.
  Deno.addSignalListener("SIGINT", () => {
    writeAll(conn, encoder.encode("/quit\n")).catch(() => {});
    setTimeout(() => Deno.exit(0), QUIT_WAIT_MS);
  });
  sendStdin(conn).catch((error) => {
    if (!isDisconnectError(error)) console.error(`error: cannot send: ${error}`);
  });

  try {
    await printServerLines(conn);
    console.error("*** connection closed by the server");
  } catch (error) {
    console.error(
      `error: lost the connection: ${error instanceof Error ? error.message : error}`,
    );
    Deno.exit(1);
  } finally {
    closeQuietly(conn);
  }
  // stdin may still be waiting for input that will never be sent anywhere.
  Deno.exit(0);
}

if (import.meta.main) await main();
