/**
 * What the scripts share as command-line programs: flags, help and exit
 * codes, logging, progress, byte formatting and TLS file flags. Only scripts
 * (and this package) import it; the network packages take a `ServerLogger`
 * (net/logger.ts) instead, which the {@linkcode Logger} here satisfies.
 *
 * - {@linkcode parseCliOrExit}, {@linkcode listenOptions} and
 *   {@linkcode connectOptions} (cli.ts): `parseArgs` with defaults, range
 *   checks, `--help` on stdout with exit 0 and usage errors with exit 2.
 * - {@linkcode Logger} (log.ts): timestamped lines on stderr, colour only on a
 *   terminal.
 * - {@linkcode ProgressBar} (progress_bar.ts) and {@linkcode formatBytes}
 *   (format_bytes.ts): for long transfers.
 * - {@linkcode readTlsFiles} and {@linkcode readCaFile} (tls_files.ts): the
 *   `--tls-cert`/`--tls-key`/`--ca` files, with errors that say what to do.
 * - {@linkcode HexDumper} (hex_dump.ts) and {@linkcode pipeStdio}
 *   (pipe_stdio.ts): a client's `--hexdump` and netcat-style stdin/stdout pipe.
 * - {@linkcode CHAT_LIMIT_OPTIONS}, {@linkcode chatLimitsFrom} and
 *   {@linkcode explainChatStartError} (chat_server_flags.ts): the chat
 *   server's own flags as library options, and advice naming them.
 * - {@linkcode sendLines} (udp_line_session.ts) and {@linkcode datagramBenchAdvice}
 *   (datagram_bench_advice.ts): the UDP client's stdin mode and its bench advice.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatBytes(1536), "1.5 KiB");
 * ```
 *
 * @module
 */
export * from "./chat_server_flags.ts";
export * from "./cli.ts";
export * from "./cli_options.ts";
export * from "./datagram_bench_advice.ts";
export * from "./deflate_flags.ts";
export * from "./describe_receive_outcome.ts";
export * from "./ensure_writable_dir.ts";
export * from "./explain_udp_error.ts";
export * from "./format_bytes.ts";
export * from "./format_count.ts";
export * from "./format_proxy_summary.ts";
export * from "./hex_dump.ts";
export * from "./log.ts";
export * from "./pipe_stdio.ts";
export * from "./progress_bar.ts";
export * from "./run_command.ts";
export * from "./tls_files.ts";
export * from "./udp_line_session.ts";
export * from "./ws_client_session.ts";
