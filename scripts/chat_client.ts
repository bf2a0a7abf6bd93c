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
 * prints the greeting, `*** You are alice. ...`, `*** 1 in #lobby: alice`, then exits 0 once
 * the server has answered and closed. Over TLS: `deno task chat-client-tls` (README, "The chat
 * over TLS"). With `--nick`, nothing from stdin is sent until the server has accepted the nick.
 * Lines from the server are sanitised again: a client should not trust a server with its terminal.
 *
 * Built on `Deno.connect` (`Deno.startTls` with `--tls`), wrapped by `connectTcp` in
 * lib/tcp/connect_tcp.ts (timeout, advice).
 *
 * @module
 */

import { ChunkReader } from "../lib/io/chunk_reader.ts";
import { readChatLines, TlsAnswerError } from "../lib/chat/read_chat_lines.ts";
import { parseCliOrExit } from "../lib/cli/cli.ts";
import { connectOptions, logLevel } from "../lib/cli/cli_options.ts";
import { Logger } from "../lib/cli/log.ts";
import { allowNetFlag, formatRunCommand } from "../lib/cli/run_command.ts";
import { readCaFile } from "../lib/cli/tls_files.ts";
import { ConnectError, connectTcp } from "../lib/tcp/connect_tcp.ts";
import { isDisconnectError } from "../lib/net/net_errors.ts";
import { formatAddr, formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { closeQuietly } from "../lib/io/close_quietly.ts";
import { writeAll } from "../lib/io/write_all.ts";

/** After /quit on Ctrl+C, how long to wait for the server's goodbye, in ms. */
const QUIT_WAIT_MS = 1_000;
/** How long to wait for the server's answer to `/nick`, in ms. */
const NICK_WAIT_MS = 5_000;

const encoder = new TextEncoder();
/** What a TLS answer to our plain text means for the user. */
const TLS_ADVICE = "the server answered with a TLS alert: it speaks TLS, not the chat's plain " +
  "text (try --tls, and --ca FILE for a self-signed certificate)";

/** An error as the user reads it: a TLS answer is worded with the flags that fix it. */
function describe(error: unknown): string {
  if (error instanceof TlsAnswerError) return TLS_ADVICE;
  return error instanceof Error ? error.message : String(error);
}

function print(line: string): Promise<void> {
  return writeAll(Deno.stdout, encoder.encode(line + "\n"));
}

/** Why `/nick` did not work: the server's reason, or what the peer seems to be. */
class NickRefused extends Error {}

/**
 * Sends `/nick NAME` and prints the server's lines until it accepts (`*** You are NAME`) or
 * refuses (`*** error: ...`). Nothing from stdin goes out before that, so the first typed line
 * can never become the nick.
 */
async function pickNick(
  conn: Deno.Conn,
  lines: AsyncIterator<string>,
  nick: string,
  where: string,
): Promise<void> {
  const request = `/nick ${nick}`;
  await writeAll(conn, encoder.encode(request + "\n"));
  // Closing the connection is how a pending read is cancelled.
  const timer = setTimeout(() => closeQuietly(conn), NICK_WAIT_MS);
  try {
    for (let first = true;; first = false) {
      let next: IteratorResult<string>;
      try {
        next = await lines.next();
      } catch (error) {
        if (!isDisconnectError(error)) throw error;
        next = { done: true, value: undefined };
      }
      if (next.done) {
        throw new NickRefused(
          `${where} closed the connection without answering /nick: is it chat_server.ts?`,
        );
      }
      const line = next.value;
      if (line === request) {
        throw new NickRefused(
          `${where} sent our "${request}" line back: it looks like an echo server, not chat_server.ts`,
        );
      }
      if (first && !line.startsWith("*** ")) {
        const sent = JSON.stringify(line.slice(0, 60));
        throw new NickRefused(`${where} does not greet like chat_server.ts (it sent ${sent})`);
      }
      await print(line);
      if (line.startsWith(`*** You are ${nick}`)) return;
      if (line.startsWith("*** error: ")) {
        throw new NickRefused(`the server refused the nick: ${line.slice("*** error: ".length)}`);
      }
    }
  } catch (error) {
    // The timer closed the connection under the pending read.
    if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
      throw new NickRefused(
        `no answer to /nick from ${where} within ${NICK_WAIT_MS / 1000} s: is it chat_server.ts?`,
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Copies stdin to the server as it arrives, then half-closes so the server sees the end. */
async function sendStdin(conn: Deno.Conn, onQuitLine: () => void): Promise<void> {
  const reader = new ChunkReader(Deno.stdin);
  for (let chunk; (chunk = await reader.read()) !== null;) {
    // A typed /quit means the server's close is expected, not news.
    if (/(^|\n)\/quit\b/.test(new TextDecoder().decode(chunk))) onQuitLine();
    await writeAll(conn, chunk);
  }
  // "No more input": the server ends our session and closes after its last replies.
  await conn.closeWrite();
}

/** Parses flags, connects, and relays until the server closes the connection. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseCliOrExit(args, {
    name: "chat_client.ts",
    summary: "Talk to chat_server.ts: stdin lines to the server, its lines to stdout.",
    usage: [
      "deno run --allow-net=127.0.0.1 scripts/chat_client.ts [--nick NAME] [options]",
      "deno run --allow-net=127.0.0.1 --allow-read=tests/fixtures scripts/chat_client.ts \\",
      "  --tls --ca tests/fixtures/ca.crt [--nick NAME]",
    ],
    options: {
      ...connectOptions(7002),
      nick: {
        type: "string",
        valueName: "NAME",
        description: "Nick to pick on connect; exit 1 if the server refuses it",
      },
      tls: { type: "boolean", description: "Connect with TLS (a server run with --tls-cert)" },
      ca: {
        type: "string",
        valueName: "FILE",
        description: "Trust this PEM CA certificate too (implies --tls; needs --allow-read)",
      },
    },
    notes: [
      "Type /help once connected for the chat's commands; /quit or Ctrl+C to leave.",
      "Exit codes: 0 left normally, 1 network error or refused nick, 2 usage error.",
    ],
  });
  const hostname = stripBrackets(values.host);
  const where = formatHostPort(hostname, values.port);

  let caCerts: string[] | undefined;
  try {
    caCerts = await readCaFile(values.ca);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }

  const tls = values.tls || caCerts !== undefined;
  let conn: Deno.Conn;
  try {
    conn = await connectTcp({ hostname, port: values.port, tls, caCerts });
  } catch (error) {
    console.error(`error: ${error instanceof ConnectError ? error.message : error}`);
    if (error instanceof ConnectError && error.code === "permission") {
      const read = values.ca ? [`--allow-read=${values.ca}`] : [];
      console.error(`run: ${formatRunCommand([allowNetFlag([values.host]), ...read])}`);
    }
    Deno.exit(1);
  }
  new Logger({ level: logLevel(values) }).debug(
    `connected to ${where} from ${formatAddr(conn.localAddr)}`,
  );
  const lines = readChatLines(conn);

  // Whether we asked to leave (Ctrl+C, a typed /quit, or the end of stdin): then the server
  // closing the connection is the expected end, not something to report.
  let leaving = false;
  // Ctrl+C: leave politely, then exit even if the server does not answer. The terminal and
  // `deno task` may both deliver the same keypress, so only the first signal counts.
  const onInterrupt = () => {
    if (leaving) return;
    leaving = true;
    writeAll(conn, encoder.encode("/quit\n")).catch(() => {});
    setTimeout(() => {
      console.error("*** left (the server did not answer /quit)");
      Deno.exit(0);
    }, QUIT_WAIT_MS);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);

  try {
    if (values.nick !== undefined) await pickNick(conn, lines, values.nick, where);
  } catch (error) {
    closeQuietly(conn);
    // Ctrl+C while waiting for the answer: the user left, nothing went wrong.
    if (leaving) Deno.exit(0);
    console.error(`error: ${describe(error)}`);
    Deno.exit(1);
  }

  sendStdin(conn, () => leaving = true).then(
    () => leaving = true,
    (error) => {
      if (!isDisconnectError(error)) console.error(`error: cannot send: ${error}`);
    },
  );

  try {
    for await (const line of lines) await print(line);
    if (!leaving) console.error("*** connection closed by the server");
  } catch (error) {
    if (error instanceof TlsAnswerError) {
      console.error(`error: ${TLS_ADVICE}`);
      Deno.exit(1);
    }
    if (!(leaving && isDisconnectError(error))) {
      console.error(
        `error: lost the connection: ${error instanceof Error ? error.message : error}`,
      );
      Deno.exit(1);
    }
  } finally {
    closeQuietly(conn);
  }
  // stdin may still be waiting for input that will never be sent anywhere.
  Deno.exit(0);
}

if (import.meta.main) await main();
