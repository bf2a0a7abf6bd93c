/**
 * # File sender
 *
 * Sends one file to `scripts/file_receive.ts`, streaming it (memory stays
 * flat whatever its size), with a progress bar on a terminal. If the
 * connection breaks, `--retries` reconnects and resumes; running the same
 * command again later resumes too. Exits 0 only once the receiver has checked
 * the file's size and SHA-256 and saved it.
 *
 * The protocol (framed JSON headers, then the raw bytes and their SHA-256) is drawn in the
 * README's File transfer section; `--secret-file PATH` (or `--secret`,
 * `FILE_TRANSFER_SECRET`) answers a receiver's challenge, `--tls --ca FILE` encrypts the file.
 *
 * Run (with `deno task file-receive` in another terminal):
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=photo.jpg scripts/file_send.ts photo.jpg
 * ```
 *
 * Try it: `deno run --allow-net=127.0.0.1 --allow-read=deno.json scripts/file_send.ts deno.json`
 * prints `sent deno.json: 3.9 KiB in 0.05 s (73.4 KiB/s), sha256 <64 hex digits>, verified by the
 * receiver`; the same command again prints `error: the receiver refused the file: deno.json
 * already exists on the receiver (it runs without --overwrite)` and exits 1.
 *
 * Built on `Deno.connect` (`Deno.connectTls` with `--tls`), wrapped by `connectTcp` in
 * lib/tcp/connect_tcp.ts; the protocol is `sendFile` in lib/file_transfer/file_sender.ts.
 *
 * @module
 */

import { parseCliOrExit } from "../lib/cli/cli.ts";
import { connectOptions, logLevel } from "../lib/cli/cli_options.ts";
import { Logger } from "../lib/cli/log.ts";
import { ConnectError, connectTcp, formatRetry } from "../lib/tcp/connect_tcp.ts";
import { FileTransferError, NEEDS_SECRET } from "../lib/file_transfer/file_transfer_protocol.ts";
import { sendFile } from "../lib/file_transfer/file_sender.ts";
import { formatByteRate, formatBytes } from "../lib/cli/format_bytes.ts";
import { importSecret, resolveSecret } from "../lib/file_transfer/transfer_auth.ts";
import { isDisconnectError } from "../lib/net/net_errors.ts";
import { formatAddr, formatHostPort, stripBrackets } from "../lib/net/net_addr.ts";
import { ProgressBar } from "../lib/cli/progress_bar.ts";
import { basename } from "node:path";

const CLI = {
  name: "file_send.ts",
  summary: "Send a file to file_receive.ts; resumes interrupted transfers.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-read=FILE scripts/file_send.ts [options] FILE",
    "deno run --allow-net=127.0.0.1 --allow-read=FILE,tests/fixtures scripts/file_send.ts \\",
    "  --tls --ca tests/fixtures/ca.crt FILE",
    "deno run --allow-net=127.0.0.1 --allow-read=FILE,secret.txt scripts/file_send.ts \\",
    "  --secret-file secret.txt FILE",
  ],
  positionals: "FILE",
  options: {
    ...connectOptions(7003, "Receiver"),
    name: {
      type: "string",
      short: "n",
      valueName: "NAME",
      description: "Save under this name (default: FILE's own name)",
    },
    retries: {
      type: "integer",
      short: "r",
      default: 3,
      min: 0,
      description:
        "Reconnect and resume this many times if the connection fails or the receiver is busy",
    },
    secret: {
      type: "string",
      valueName: "TEXT",
      description: "Prove to the receiver that we know TEXT (visible in ps: prefer the next)",
    },
    "secret-file": {
      type: "string",
      valueName: "PATH",
      description:
        "Read the secret from PATH; or set FILE_TRANSFER_SECRET (with --allow-env=FILE_TRANSFER_SECRET)",
    },
    timeout: {
      type: "number",
      default: 10,
      min: 0.001,
      valueName: "SECONDS",
      description: "Give up connecting after this long",
    },
    "reply-timeout": {
      type: "number",
      default: 60,
      min: 0.001,
      valueName: "SECONDS",
      description:
        "Give up waiting for the receiver's answer (it hashes a part it holds first) after this long",
    },
    tls: { type: "boolean", description: "Connect with TLS" },
    ca: {
      type: "string",
      valueName: "FILE",
      description: "Trust this PEM certificate (for a self-signed receiver)",
    },
  },
  notes: [
    "The secret is never sent (only a proof made from it); the file is readable on the wire",
    "unless you use --tls.",
    "Exit codes: 0 saved and verified, 1 refused, rejected or network error, 2 usage error,",
    "130 interrupted by Ctrl+C (run the same command again to resume).",
    "A progress bar is drawn on stderr when it is a terminal; a final line goes to stdout.",
  ],
} as const;

/** Sends the file named on the command line; returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values, positionals } = parseCliOrExit(args, CLI);
  if (positionals.length !== 1) {
    console.error("error: give exactly one FILE to send\nRun with --help for usage.");
    return 2;
  }
  const path = positionals[0]!;
  const hostname = stripBrackets(values.host);
  let caCerts: string[] | undefined;
  if (values.ca) {
    try {
      caCerts = [await Deno.readTextFile(values.ca)];
    } catch (error) {
      console.error(`error: cannot read --ca ${values.ca}: ${(error as Error).message}`);
      return 1;
    }
  }
  let secret;
  try {
    const text = await resolveSecret({ secret: values.secret, secretFile: values["secret-file"] });
    secret = text === undefined ? undefined : await importSecret(text);
  } catch (error) {
    console.error(`error: ${lowercase((error as Error).message)}`);
    return error instanceof TypeError ? 2 : 1;
  }
  const tls = values.tls || caCerts !== undefined;
  const timeout = values.timeout * 1000;
  const log = new Logger({ level: logLevel(values) });

  // Ctrl+C stops cleanly: the receiver keeps what it got, and the same
  // command resumes from there.
  const stop = new AbortController();
  const onSigint = () => stop.abort(new Deno.errors.Interrupted("interrupted"));
  Deno.addSignalListener("SIGINT", onSigint);
  let bar: ProgressBar | undefined;
  let done = 0;
  try {
    const result = await sendFile(
      async () => {
        const conn = await connectTcp({ hostname, port: values.port, tls, caCerts, timeout });
        log.debug(
          `connected to ${formatHostPort(hostname, values.port)} from ` +
            `${formatAddr(conn.localAddr)}${tls ? " over TLS" : ""}`,
        );
        return conn;
      },
      path,
      {
        name: values.name,
        retries: values.retries,
        secret,
        replyTimeout: values["reply-timeout"] * 1000,
        signal: stop.signal,
        onStart: (offset, size) => {
          bar?.finish(done, true);
          log.debug(`the receiver has ${formatBytes(offset)} of ${formatBytes(size)}`);
          if (offset > 0 && !values.quiet) {
            console.error(`resuming at ${formatBytes(offset)} of ${formatBytes(size)}`);
          }
          bar = new ProgressBar(size, {
            label: values.name ?? basename(path),
            startAt: offset,
            terminal: !values.quiet && Deno.stderr.isTerminal(),
          });
          done = offset;
        },
        onProgress: (bytes) => {
          done = bytes;
          bar?.update(bytes);
        },
        onRetry: (error, attempt, delay) => {
          bar?.finish(done, true);
          console.error(
            `warning: ${
              lowercase(formatRetry(retryReason(error), attempt, values.retries, delay))
            }`,
          );
        },
      },
    );
    bar?.finish(result.size);
    if (secret && !result.authenticated) {
      console.error("warning: the receiver did not ask for the secret: anyone may send to it");
    }
    const resumed = result.offset > 0 ? `, resumed at ${formatBytes(result.offset)}` : "";
    console.log(
      `sent ${result.name}: ${formatBytes(result.size)} in ${result.seconds.toFixed(2)} s (${
        formatByteRate(result.sent, result.seconds)
      }${resumed}), sha256 ${result.sha256}, verified by the receiver`,
    );
    return 0;
  } catch (error) {
    bar?.finish(done, true);
    console.error(`error: ${explain(error, path)}`);
    return stop.signal.aborted ? 130 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

function explain(error: unknown, path: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.Interrupted) {
    return "interrupted: the receiver keeps what it got; run the same command again to resume";
  }
  if (error instanceof FileTransferError && message.endsWith(NEEDS_SECRET)) {
    return `${message}: give it with --secret-file PATH, --secret TEXT, or FILE_TRANSFER_SECRET ` +
      "(with --allow-env=FILE_TRANSFER_SECRET)";
  }
  if (error instanceof FileTransferError && error.retry && !/later/.test(message)) {
    return `${message}; try again later (or with more --retries)`;
  }
  if (error instanceof ConnectError || error instanceof FileTransferError) return message;
  if (error instanceof Deno.errors.NotFound) return `cannot send ${path}: no such file`;
  if (error instanceof Deno.errors.NotCapable) {
    return `permission denied: run with --allow-read=${path}, e.g. deno run --allow-net=127.0.0.1 --allow-read=${path} scripts/file_send.ts ${path} (the file-send task reads only the project directory)`;
  }
  if (isDisconnectError(error)) {
    return `connection lost (${message}); run the same command again to resume`;
  }
  return lowercase(message);
}

/** Why a retry is needed, in words: a bare "Broken pipe (os error 32)" says nothing of what broke. */
function retryReason(error: unknown): Error {
  if (isDisconnectError(error)) {
    return new Error(`the connection to the receiver broke (${(error as Error).message})`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Library errors say "Cannot ..."; here they follow "error: ", like the script's own messages. */
function lowercase(message: string): string {
  return message.replace(/^Cannot /, "cannot ");
}

if (import.meta.main) Deno.exit(await main());
