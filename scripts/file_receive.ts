/**
 * # File receiver
 *
 * Receives files over TCP (or TLS) into a directory, any number of senders at
 * once, and keeps only files whose size and SHA-256 check out. Pair it with
 * `scripts/file_send.ts`.
 *
 * The protocol (a framed JSON header, an optional challenge, a resume offset, the raw bytes and
 * their SHA-256, a verdict) is drawn step by step in the README's File transfer section. Nothing
 * appears under a file's real name until it is verified; an interrupted transfer leaves only the
 * hidden `.NAME.part`, which the next send resumes from. Without a secret anyone who can reach
 * the port may send: `--secret-file PATH` (README, "Who may send") asks each sender for proof,
 * and `--tls-cert`/`--tls-key` keep the file itself off the wire.
 *
 * Run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=received --allow-write=received \
 *   scripts/file_receive.ts
 * ```
 *
 * Try it: `deno run --allow-net=127.0.0.1 --allow-read=deno.json scripts/file_send.ts deno.json`
 * prints `sent deno.json: ... verified by the receiver`, and `received/deno.json` appears.
 *
 * Built on `Deno.listen` (`Deno.listenTls` with `--tls-cert`), wrapped by `serveTcp` in
 * lib/tcp/serve_tcp.ts; each connection is a `FileReceiver` (lib/file_transfer/file_receiver.ts).
 *
 * @module
 */

import { parseCliOrExit, UsageError } from "../lib/cli/cli.ts";
import { listenHostsOptions, logLevel } from "../lib/cli/cli_options.ts";
import { readTlsFiles, TLS_SERVER_OPTIONS } from "../lib/cli/tls_files.ts";
import {
  DEFAULT_MAX_FILE_SIZE,
  FileReceiver,
  type ReceiveResult,
} from "../lib/file_transfer/file_receiver.ts";
import { formatByteRate, formatBytes } from "../lib/cli/format_bytes.ts";
import { formatCount } from "../lib/cli/format_count.ts";
import { encodeBusyVerdict } from "../lib/file_transfer/file_transfer_protocol.ts";
import { importSecret, resolveSecret } from "../lib/file_transfer/transfer_auth.ts";
import { Logger } from "../lib/cli/log.ts";
import { allowNetFlag, formatRunCommand, isPermissionError } from "../lib/cli/run_command.ts";
import { formatAddr } from "../lib/net/net_addr.ts";
import { serveHosts, type ServerGroup } from "../lib/net/serve_hosts.ts";
import { type ConnectionContext, serveTcp, type TcpServer } from "../lib/tcp/serve_tcp.ts";
import { explainListenError, ListenError } from "../lib/net/net_errors.ts";

/** The flags that set the listening address, for the advice when it cannot be bound. */
const LISTEN_FLAGS = { portFlag: "--port", hostFlag: "--host" };

/** Totals printed at shutdown. */
export interface ReceiveStats {
  /** Files saved. */
  saved: number;
  /** Transfers that did not end with a saved file. */
  unsaved: number;
  /** File bytes received over the network. */
  bytes: number;
}

/**
 * Returns a connection handler that receives one file per connection and logs the outcome.
 *
 * @param receiver Where files go.
 * @param log Where outcomes are logged.
 * @param stats Counters updated as transfers end.
 * @returns The handler for {@linkcode serveTcp}.
 */
export function receiveHandler(receiver: FileReceiver, log: Logger, stats: ReceiveStats) {
  return async (conn: Deno.Conn, ctx: ConnectionContext): Promise<void> => {
    const peer = `#${ctx.id} ${formatAddr(ctx.remoteAddr)}`;
    const started = performance.now();
    const result = await receiver.receive(conn, {
      signal: ctx.signal,
      // An arrow, not `ctx.touch` itself: touch() is a method that needs its `this`.
      touch: () => ctx.touch(),
      onStart: (name, size, offset) =>
        log.info(
          `${peer} receiving ${name} (${formatBytes(size)})${
            offset > 0 ? `, resuming at ${formatBytes(offset)}` : ""
          }`,
        ),
    });
    stats.bytes += result.received;
    const seconds = (performance.now() - started) / 1000;
    logOutcome(log, peer, result, seconds);
    if (result.status === "saved") stats.saved++;
    else stats.unsaved++;
  };
}

function logOutcome(log: Logger, peer: string, result: ReceiveResult, seconds: number): void {
  const name = result.name ?? "(no header)";
  switch (result.status) {
    case "saved":
      log.info(
        `${peer} saved ${result.path}: ${formatBytes(result.size ?? 0)} verified, ${
          formatBytes(result.received)
        } received in ${seconds.toFixed(2)} s (${
          formatByteRate(result.received, seconds)
        }), sha256 ${result.sha256}`,
      );
      break;
    case "interrupted":
      if (result.name === undefined) {
        log.debug(`${peer} left before sending a header`);
      } else {
        const have = result.offset + result.received;
        log.warn(
          `${peer} ${name} interrupted at ${formatBytes(have)} of ${
            formatBytes(result.size ?? 0)
          } (${result.reason}); ${have > 0 ? `kept .${name}.part for resuming` : "nothing kept"}`,
        );
      }
      break;
    case "refused":
      log.warn(`${peer} refused: ${result.reason}`);
      break;
    case "rejected":
      log.warn(`${peer} rejected ${name}: ${result.reason}`);
      break;
    case "failed":
      log.error(`${peer} ${result.reason}`);
      break;
  }
}

const CLI = {
  name: "file_receive.ts",
  summary: "Receive files sent by file_send.ts, verify their SHA-256, save them in --dir.",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-read=received --allow-write=received \\",
    "  scripts/file_receive.ts [options]",
    "deno run --allow-net=127.0.0.1 --allow-read=received,tests/fixtures --allow-write=received \\",
    "  scripts/file_receive.ts --tls-cert tests/fixtures/localhost.crt --tls-key tests/fixtures/localhost.key",
    "deno run --allow-net=127.0.0.1 --allow-read=received,secret.txt --allow-write=received \\",
    "  scripts/file_receive.ts --secret-file secret.txt",
  ],
  options: {
    ...listenHostsOptions(7003),
    dir: {
      type: "string",
      default: "received",
      valueName: "DIR",
      description: "Directory to save files in (created if missing)",
    },
    "max-size": {
      type: "integer",
      default: DEFAULT_MAX_FILE_SIZE,
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      valueName: "BYTES",
      description: "Refuse files larger than this (checked from the header)",
    },
    overwrite: { type: "boolean", description: "Replace files that already exist" },
    "no-sync": {
      type: "boolean",
      description: "Skip flushing each file to disk before renaming it into place",
    },
    "max-connections": {
      type: "integer",
      default: 100,
      min: 1,
      description: 'Answer senders beyond this many at once "busy" (they retry)',
    },
    secret: {
      type: "string",
      valueName: "TEXT",
      description: "Accept only senders that prove they know TEXT (visible in ps: prefer the next)",
    },
    "secret-file": {
      type: "string",
      valueName: "PATH",
      description:
        "Read the secret from PATH; or set FILE_TRANSFER_SECRET (with --allow-env=FILE_TRANSFER_SECRET)",
    },
    "idle-timeout": {
      type: "number",
      default: 60,
      min: 0,
      valueName: "SECONDS",
      description: "Drop a sender silent this long (0 = never); its part is kept",
    },
    "grace-period": {
      type: "number",
      default: 5,
      min: 0,
      valueName: "SECONDS",
      description: "On Ctrl+C, wait this long for transfers to stop",
    },
    ...TLS_SERVER_OPTIONS,
  },
  notes: [
    "Files appear in DIR only once verified; transfers in progress are hidden DIR/.NAME.part files.",
    "Without a secret anyone who can reach the port may send. The secret proves who sends (it",
    "never crosses the wire); it does not hide the file: without TLS the content is readable on",
    "the network. Off loopback, use --secret-file with --tls-cert and --tls-key.",
    "Try it: deno run --allow-net=127.0.0.1 --allow-read=deno.json scripts/file_send.ts deno.json",
  ],
} as const;

/** Starts the receiver from command-line flags; resolves to the exit code once it has shut down. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const log = new Logger({ level: logLevel(values) });
  let tls;
  try {
    tls = await readTlsFiles(values["tls-cert"], values["tls-key"]);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }

  let secret;
  try {
    const text = await resolveSecret({ secret: values.secret, secretFile: values["secret-file"] });
    secret = text === undefined ? undefined : await importSecret(text);
  } catch (error) {
    console.error(`error: ${lowercase((error as Error).message)}`);
    return error instanceof TypeError ? 2 : 1;
  }

  const dir = values.dir;
  try {
    await Deno.mkdir(dir, { recursive: true });
    // Fail now, not at the first sender, if the directory is not ours to
    // use: Deno's permission first, then the system's (create and remove a file).
    await Deno.stat(dir);
    const probe = `${dir}/.file_receive-probe-${crypto.randomUUID()}`;
    await Deno.writeFile(probe, new Uint8Array(0), { createNew: true });
    await Deno.remove(probe);
  } catch (error) {
    const advice = error instanceof Deno.errors.NotCapable
      ? `run with --allow-read=${dir} --allow-write=${dir}`
      : error instanceof Deno.errors.PermissionDenied
      ? `cannot create files in it (${
        (error as Error).message.replace(/:.*/, "")
      }): fix its permissions or choose another --dir`
      : (error as Error).message;
    console.error(`error: cannot use --dir ${dir}: ${advice}`);
    return 1;
  }

  const receiver = new FileReceiver({
    dir,
    maxSize: values["max-size"],
    overwrite: values.overwrite,
    sync: !values["no-sync"],
    secret,
  });
  const stats: ReceiveStats = { saved: 0, unsaved: 0, bytes: 0 };
  let group: ServerGroup<TcpServer>;
  try {
    // One listener per --host, all on one port, saving into the same --dir.
    group = await serveHosts(
      values.host,
      (hostname, port) =>
        serveTcp(receiveHandler(receiver, log, stats), {
          hostname,
          port,
          tls,
          maxConnections: values["max-connections"],
          // Said in the protocol, so the sender reads "busy" and retries.
          busyMessage: encodeBusyVerdict(values["max-connections"]),
          idleTimeout: values["idle-timeout"] * 1000,
          gracePeriod: values["grace-period"] * 1000,
          logger: log,
        }),
      { port: values.port, handleSignals: true, logger: log },
    );
  } catch (error) {
    // The lib's advice names no flag; ours does.
    const message = error instanceof ListenError
      ? explainListenError(error, error.hostname, error.port, LISTEN_FLAGS)
      : (error as Error).message;
    console.error(`error: ${message}`);
    if (isPermissionError(error)) {
      const read = [dir, ...(tls ? [values["tls-cert"], values["tls-key"]] : [])].join(",");
      const flags = [allowNetFlag(values.host), `--allow-read=${read}`, `--allow-write=${dir}`];
      console.error(`run: ${formatRunCommand(flags, { args })}`);
    }
    return 1;
  }
  for (const addr of group.addrs) {
    console.log(`listening on ${tls ? "tls://" : ""}${formatAddr(addr)}`);
  }
  log.info(
    `saving files in ${dir}/ (max ${formatBytes(values["max-size"])} each)${
      secret ? ", from senders that know the secret" : ""
    }`,
  );
  for (const addr of group.addrs) {
    if (secret || isLoopback(addr.hostname)) continue;
    log.warn(
      `no --secret: anyone who can reach ${formatAddr(addr)} can write files of up to ${
        formatBytes(values["max-size"])
      } into ${dir}/; use --secret-file, with --tls-cert so the files are not readable on the way`,
    );
  }
  await group.finished;
  log.info(
    `shut down: saved ${formatCount(stats.saved, "file")}, ${stats.unsaved} unsaved, ${
      formatBytes(stats.bytes)
    } received`,
  );
  return 0;
}

function isLoopback(hostname: string): boolean {
  return /^127\./.test(hostname) || hostname === "::1" || /^::ffff:127\./i.test(hostname);
}

function lowercase(message: string): string {
  return message.replace(/^Cannot /, "cannot ");
}

if (import.meta.main) Deno.exit(await main());
