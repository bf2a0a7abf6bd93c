/**
 * The sending side of the file-transfer protocol (see
 * `file_transfer_protocol.ts`): streams a file, resumes where the receiver
 * stopped, and reports the receiver's verdict.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { createHash, type Hash } from "node:crypto";
import { BufferedReader } from "../io/buffered_reader.ts";
import { ConnectError } from "../tcp/connect_tcp.ts";
import { IncompleteFrameError } from "../framing/frame_errors.ts";
import { LENGTH_PREFIX_SIZE } from "../framing/length_prefixed.ts";
import {
  decodeMessage,
  encodeMessage,
  FILE_TRANSFER_VERSION,
  FileTransferError,
  fromHex,
  MAX_CONTROL_FRAME_SIZE,
  toHex,
  type VerdictMessage,
} from "./file_transfer_protocol.ts";
import { hashFilePrefix } from "./hash_file_prefix.ts";
import { signChallenge } from "./transfer_auth.ts";
import { formatAddr } from "../net/net_addr.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import { writeAll } from "../io/write_all.ts";

/** Options for {@linkcode sendFile}. */
export interface SendFileOptions {
  /**
   * The name the receiver saves the file under.
   *
   * @default {the last component of `path`}
   */
  name?: string;
  /**
   * How many times to reconnect after the connection fails (reset, closed
   * mid-transfer, receiver busy or restarting). Each new attempt resumes
   * from what the receiver already has. A refused *first* connection is not
   * retried: nothing listens there, and waiting will not change that.
   *
   * @default {0}
   */
  retries?: number;
  /**
   * The shared secret the receiver may ask for (from `importSecret` in
   * `transfer_auth.ts`); it is never sent, only a proof computed from it.
   * Without it, a receiver that has a secret refuses the file.
   *
   * @default {undefined}
   */
  secret?: CryptoKey;
  /**
   * The pause before the first reconnect, in ms; it doubles up to 5 s.
   *
   * @default {500}
   */
  retryDelay?: number;
  /**
   * Size of the read buffer, in bytes: the memory a transfer uses.
   *
   * @default {131072}
   */
  chunkSize?: number;
  /**
   * How long to wait for the receiver's answers (its resume offer, and its
   * verdict after the last byte), in ms.
   *
   * @default {60000}
   */
  replyTimeout?: number;
  /** Stop sending when this aborts; the receiver keeps what it got, for resuming. */
  signal?: AbortSignal;
  /** Called as bytes go out, with the bytes done (resumed part included) and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Called when an attempt starts sending, with the offset it resumes from. */
  onStart?: (offset: number, size: number, attempt: number) => void;
  /** Called before a reconnect, with the error and the pause in ms. */
  onRetry?: (error: unknown, attempt: number, delay: number) => void;
}

/** What {@linkcode sendFile} returns once the receiver has verified the file. */
export interface SendFileResult {
  /** The name the receiver saved it under. */
  name: string;
  /** The file's size, in bytes. */
  size: number;
  /** The SHA-256 both sides agree on (hex). */
  sha256: string;
  /** Where the successful attempt started (more than 0 when resumed). */
  offset: number;
  /** File bytes sent over the network, all attempts together. */
  sent: number;
  /** Connections used. */
  attempts: number;
  /** Time from the first connection to the verdict, in seconds. */
  seconds: number;
  /** True when the receiver asked for the secret and accepted the proof. */
  authenticated: boolean;
}

/**
 * Sends a file with the protocol of `file_transfer_protocol.ts`, streaming
 * it with a fixed-size buffer, and resolves once the receiver has verified
 * and saved it.
 *
 * @param connect Opens a new connection to the receiver (called again for each retry).
 * @param path The file to send.
 * @param options Name, retries, progress.
 * @returns What was sent, with the agreed SHA-256.
 * @throws {FileTransferError} If the receiver refused or rejected the file;
 *   the message is the receiver's reason.
 * @throws {ConnectError} If the receiver cannot be reached (after the retries).
 * @throws {Deno.errors.NotFound} If the file does not exist.
 * @throws {TypeError} If `path` is not a regular file, or the peer does not
 *   speak the protocol (an echo server, a chat server, a web server).
 *
 * @example
 * ```ts ignore
 * import { connectTcp } from "../tcp/connect_tcp.ts";
 * import { sendFile } from "./file_sender.ts";
 *
 * const result = await sendFile(() => connectTcp({ port: 7003 }), "photo.jpg", { retries: 3 });
 * console.log(`sent ${result.name}, sha256 ${result.sha256}`);
 * ```
 */
export async function sendFile(
  connect: () => Promise<Deno.Conn>,
  path: string,
  options: SendFileOptions = {},
): Promise<SendFileResult> {
  using file = await Deno.open(path, { read: true });
  const info = await file.stat();
  if (!info.isFile) throw new TypeError(`Cannot send ${path}: not a regular file`);
  const name = options.name ?? path.split(/[\\/]/).filter(Boolean).pop() ?? path;
  const started = performance.now();
  const totals = { sent: 0 };
  const retries = options.retries ?? 0;
  let delay = options.retryDelay ?? 500;
  for (let attempt = 1;; attempt++) {
    let conn: Deno.Conn | undefined;
    const onAbort = () => conn && closeQuietly(conn);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      options.signal?.throwIfAborted();
      conn = await connect();
      const { sha256, offset, authenticated } = await sendOnce(
        conn,
        file,
        name,
        info.size,
        attempt,
        totals,
        options,
      );
      return {
        name,
        size: info.size,
        sha256,
        offset,
        sent: totals.sent,
        attempts: attempt,
        seconds: (performance.now() - started) / 1000,
        authenticated,
      };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (attempt > retries || !isRetryable(error)) throw error;
      // Refused at once on the first try: no receiver there (yet), so say so
      // now rather than after several pauses. Later, it may be restarting.
      if (attempt === 1 && error instanceof ConnectError && error.code === "refused") throw error;
      options.onRetry?.(error, attempt, delay);
      // An abort ends the pause early; the caller checks the signal next.
      await sleep(delay, undefined, { signal: options.signal }).catch(() => {});
      delay = Math.min(delay * 2, 5_000);
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      if (conn) closeQuietly(conn);
    }
  }
}

async function sendOnce(
  conn: Deno.Conn,
  file: Deno.FsFile,
  name: string,
  size: number,
  attempt: number,
  totals: { sent: number },
  options: SendFileOptions,
): Promise<{ sha256: string; offset: number; authenticated: boolean }> {
  const reader = new BufferedReader(conn);
  const replyTimeout = options.replyTimeout ?? 60_000;
  const headerFrame = encodeMessage({ type: "file", version: FILE_TRANSFER_VERSION, name, size });
  const header = headerFrame.subarray(LENGTH_PREFIX_SIZE);
  try {
    await writeAll(conn, headerFrame);
  } catch (error) {
    // A busy receiver answers and closes at once, maybe before our header
    // arrived: its verdict is still there to read.
    if (!isDisconnectError(error)) throw error;
    const early = await readReply(reader, ["verdict"]).catch(() => undefined);
    throw early ? verdictError(early) : error;
  }

  let reply = await withTimeout(conn, replyTimeout, readFirstReply(reader, conn, name, header));
  let authenticated = false;
  if (reply.type === "challenge") {
    const hmac = options.secret
      ? toHex(await signChallenge(options.secret, fromHex(reply.nonce), header))
      : undefined;
    await writeAll(conn, encodeMessage(hmac ? { type: "auth", hmac } : { type: "auth" }));
    reply = await withTimeout(conn, replyTimeout, readReply(reader, ["resume", "verdict"]));
    authenticated = reply.type === "resume";
  }
  if (reply.type === "verdict") throw verdictError(reply);
  if (reply.offset > size) {
    throw new TypeError(`Cannot resume: the receiver offered ${reply.offset} of ${size} bytes`);
  }

  // Resume only if the receiver's bytes are the first bytes of this file.
  let hash: Hash = createHash("sha256");
  let offset = 0;
  if (reply.offset > 0) {
    const prefix = await hashFilePrefix(file, reply.offset);
    if (prefix.copy().digest("hex") === reply.sha256) {
      hash = prefix;
      offset = reply.offset;
    }
  }
  await writeAll(conn, encodeMessage({ type: "start", offset }));
  options.onStart?.(offset, size, attempt);

  // The verdict may come early (the receiver gave up or is shutting down):
  // read it while sending, and close the connection then, which makes the
  // pending write fail at once instead of waiting on a receiver that left.
  let sending = true;
  let digest: Uint8Array = new Uint8Array(0);
  const verdict = readReply(reader, ["verdict"]);
  const stopSending = () => {
    if (sending) closeQuietly(conn);
  };
  verdict.then(stopSending, stopSending);

  try {
    await file.seek(offset, Deno.SeekMode.Start);
    const buffer = new Uint8Array(options.chunkSize ?? 131_072);
    for (let done = offset; done < size;) {
      const n = await file.read(buffer.subarray(0, Math.min(buffer.length, size - done)));
      if (n === null) {
        throw new Error(`Cannot send ${name}: the file shrank to ${done} bytes while sending`);
      }
      const piece = buffer.subarray(0, n);
      hash.update(piece);
      await writeAll(conn, piece);
      done += n;
      totals.sent += n;
      options.onProgress?.(done, size);
    }
    digest = hash.digest();
    await writeAll(conn, digest);
  } catch (error) {
    sending = false;
    closeQuietly(conn);
    const early = await verdict.catch((reason: unknown) => reason);
    if (isVerdict(early) && !early.ok) throw verdictError(early);
    // We closed the connection when the receiver's side failed: report why
    // it failed rather than the "bad resource" of our own pending write.
    if (error instanceof Deno.errors.BadResource && early instanceof Error) throw early;
    throw error;
  }
  sending = false;

  const final = await withTimeout(conn, replyTimeout, verdict);
  if (!final.ok) throw verdictError(final);
  return { sha256: toHex(digest), offset, authenticated };
}

/**
 * Reads the receiver's first answer, telling a peer that speaks another
 * protocol from a receiver: an echo server sends our header back, a text
 * server (chat, HTTP) sends bytes that make an absurd frame length.
 */
async function readFirstReply(
  reader: BufferedReader,
  conn: Deno.Conn,
  name: string,
  header: Uint8Array,
) {
  const notOurs = (what: string) =>
    new TypeError(
      `Cannot send ${name}: ${
        formatAddr(conn.remoteAddr)
      } does not speak the file-transfer protocol (${what})`,
    );
  const prefix = await reader.readExact(LENGTH_PREFIX_SIZE);
  if (prefix === null) {
    throw new Deno.errors.UnexpectedEof("the receiver closed the connection without answering");
  }
  const length = new DataView(prefix.buffer).getUint32(0);
  if (length > MAX_CONTROL_FRAME_SIZE) {
    const rest = await reader.readSome(120).catch(() => null) ?? new Uint8Array(0);
    const bytes = new Uint8Array([...prefix, ...rest]);
    const text = new TextDecoder().decode(bytes).split(/\r?\n/)[0]!;
    if (/^[\x20-\x7e]+$/.test(text)) {
      const guess = text.startsWith("HTTP/") ? ": a web server?" : "";
      throw notOurs(`it answered in text: ${JSON.stringify(text.slice(0, 80))}${guess}`);
    }
    throw notOurs(`its first answer is not a frame: length ${length}`);
  }
  const payload = length === 0 ? new Uint8Array(0) : await reader.readExact(length);
  if (payload === null) throw new IncompleteFrameError("frame", LENGTH_PREFIX_SIZE);
  if (payload.length === header.length && payload.every((byte, i) => byte === header[i])) {
    throw notOurs("it echoed our header: an echo server?");
  }
  return decodeMessage(payload, ["challenge", "resume", "verdict"]);
}

async function readReply<const T extends "resume" | "verdict">(
  reader: BufferedReader,
  types: readonly T[],
) {
  const payload = await reader.readFrame({ maxFrameSize: MAX_CONTROL_FRAME_SIZE });
  if (payload === null) {
    throw new Deno.errors.UnexpectedEof("the receiver closed the connection without answering");
  }
  return decodeMessage(payload, types);
}

function isVerdict(value: unknown): value is VerdictMessage {
  return typeof value === "object" && value !== null &&
    (value as { type?: unknown }).type === "verdict";
}

function verdictError(verdict: VerdictMessage): FileTransferError {
  // The reason is the peer's text, printed to a terminal: no control characters (escapes).
  const reason = verdict.error?.replace(/\p{Cc}/gu, "?");
  if (verdict.busy) return new FileTransferError(reason ?? "the receiver is busy", true);
  return new FileTransferError(
    `the receiver refused the file: ${reason ?? "no reason given"}`,
    verdict.retry ?? false,
  );
}

/** Waits for `promise`; after `ms`, closes the connection (which ends the pending read) and throws. */
async function withTimeout<T>(conn: Deno.Conn, ms: number, promise: Promise<T>): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    closeQuietly(conn);
  }, ms);
  try {
    return await promise;
  } catch (error) {
    if (timedOut) {
      throw new Deno.errors.TimedOut(`no answer from the receiver within ${ms} ms`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function isRetryable(error: unknown): boolean {
  if (error instanceof FileTransferError) return error.retry;
  if (error instanceof ConnectError) {
    return error.code === "refused" || error.code === "reset" || error.code === "timeout";
  }
  return isDisconnectError(error) || error instanceof IncompleteFrameError;
}
