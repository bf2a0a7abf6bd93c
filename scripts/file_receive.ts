/**
 * # File receiver
 *
 * Receives files over TCP (or TLS) into a directory, any number of senders at once, and keeps
 * only files whose size and SHA-256 check out. Pair it with `scripts/file_send.ts`.
 *
 * The protocol (framed JSON header, challenge, resume offset, raw bytes, SHA-256, verdict) is drawn
 * in the README's File transfer section. A file appears under its real name only once verified;
 * an interrupted one leaves `.NAME.part` to resume from. `--secret-file PATH` asks each sender for
 * proof (README, "Who may send"); `--tls-cert`/`--tls-key` keep the file itself off the wire.
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
import { DEFAULT_MAX_FILE_SIZE, FileReceiver } from "../lib/file_transfer/file_receiver.ts";
import { describeReceiveOutcome } from "../lib/cli/describe_receive_outcome.ts";
import { ensureWritableDir } from "../lib/cli/ensure_writable_dir.ts";
import { formatBytes } from "../lib/cli/format_bytes.ts";
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

/** Totals printed at shutdown: files saved, transfers that saved nothing, bytes received. */
export interface ReceiveStats {
  saved: number;
  unsaved: number;
  bytes: number;
}

/** A handler for {@linkcode serveTcp}: one file per connection, its outcome logged and counted. */
export function receiveHandler(receiver: FileReceiver, log: Logger, stats: ReceiveStats) {
  return async (conn: Deno.Conn, ctx: ConnectionContext): Promise<void> => {
    const peer = `#${ctx.id} ${formatAddr(ctx.remoteAddr)}`;
    const started = performance.now();
    const result = await receiver.receive(conn, {
      signal: ctx.signal,
      // An arrow, not `ctx.touch` itself: touch() is a method that needs its `this`.
      touch: () => ctx.touch(),
      onStart: (name, size, offset) => {
        const resuming = offset > 0 ? `, resuming at ${formatBytes(offset)}` : "";
        log.info(`${peer} receiving ${name} (${formatBytes(size)})${resuming}`);
      },
    });
    stats.bytes += result.received;
    const seconds = (performance.now() - started) / 1000;
    const { level, message } = describeReceiveOutcome(result, seconds);
    log[level](`${peer} ${message}`);
    if (result.status === "saved") stats.saved++;
    else stats.unsaved++;
  };
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
    // Fail now, not at the first sender, if the directory is not ours to use.
    await ensureWritableDir(dir);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
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
  const from = secret ? ", from senders that know the secret" : "";
  log.info(`saving files in ${dir}/ (max ${formatBytes(values["max-size"])} each)${from}`);
  for (const addr of group.addrs) {
    if (secret || isLoopback(addr.hostname)) continue;
    log.warn(
      `no --secret: anyone who can reach ${formatAddr(addr)} can write files of up to ${
        formatBytes(values["max-size"])
      } into ${dir}/; use --secret-file, with --tls-cert so the files are not readable on the way`,
    );
  }
  await group.finished;
  const saved = formatCount(stats.saved, "file");
  log.info(
    `shut down: saved ${saved}, ${stats.unsaved} unsaved, ${formatBytes(stats.bytes)} received`,
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
