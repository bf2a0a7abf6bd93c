/**
 * The receiving side of the file-transfer protocol (see
 * `file_transfer_protocol.ts`): one connection in, one verified file out.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { BufferedReader } from "../io/buffered_reader.ts";
import { FrameTooLargeError, IncompleteFrameError } from "../framing/frame_errors.ts";
import {
  decodeMessage,
  encodeMessage,
  fromHex,
  MAX_CONTROL_FRAME_SIZE,
  NEEDS_SECRET,
  SHA256_SIZE,
  toHex,
  type VerdictMessage,
  WRONG_SECRET,
} from "./file_transfer_protocol.ts";
import { hashFilePrefix } from "./hash_file_prefix.ts";
import { FailureThrottle } from "./failure_throttle.ts";
import { createNonce, verifyChallenge } from "./transfer_auth.ts";
import { isDisconnectError } from "../net/net_errors.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import { writeAll } from "../io/write_all.ts";
import { exists, placeFile } from "./_place_file.ts";
import { looksLikeText, sendTextHint } from "./_text_hint.ts";

/** Default {@linkcode FileReceiverOptions.maxSize}: 1 GiB. */
export const DEFAULT_MAX_FILE_SIZE = 1024 * 1024 * 1024;

/** Default {@linkcode FileReceiverOptions.textHint}: what a raw client (`nc < file`) reads. */
export const DEFAULT_TEXT_HINT: string =
  "error: this port speaks the file-transfer protocol of file_send.ts (length-prefixed frames), " +
  "not raw bytes: send with `deno task file-send FILE`\n";

/** Options for {@linkcode FileReceiver}. */
export interface FileReceiverOptions {
  /** The directory files are saved in; it must exist. */
  dir: string;
  /**
   * The largest file accepted, in bytes; checked from the header, before any
   * byte of the file is read.
   *
   * @default {1073741824}
   */
  maxSize?: number;
  /**
   * Replace a file that already exists. Off, a sender is refused if the name
   * is taken.
   *
   * @default {false}
   */
  overwrite?: boolean;
  /**
   * Flush the file to disk before renaming it into place, so that after a
   * power cut the name holds the whole file or nothing.
   *
   * @default {true}
   */
  sync?: boolean;
  /**
   * The shared secret senders must prove they know (from `importSecret` in
   * `transfer_auth.ts`). Without it, anyone who can reach the port may send.
   *
   * @default {undefined}
   */
  secret?: CryptoKey;
  /**
   * Slows down repeated wrong or missing secrets from one address.
   *
   * @default {new FailureThrottle()}
   */
  throttle?: FailureThrottle;
  /**
   * Plain text sent, instead of a framed verdict, to a client that is
   * plainly not speaking the protocol: its first 4 bytes are printable text
   * (a file pushed with `nc`, a typed line, an HTTP request), which read as
   * a frame length exceed the control-frame limit.
   *
   * @default {DEFAULT_TEXT_HINT}
   */
  textHint?: string;
}

/** How a transfer ended. */
export type ReceiveStatus =
  /** The file is verified and in place. */
  | "saved"
  /** Refused before any data: bad header, no or wrong secret, unsafe name, too large, exists, busy. */
  | "refused"
  /** All bytes arrived but the check failed (corrupted); nothing was kept. */
  | "rejected"
  /** The connection ended early; the part received is kept for resuming. */
  | "interrupted"
  /** A local error (disk full, permissions); nothing was kept. */
  | "failed";

/** What {@linkcode FileReceiver.receive} returns. */
export interface ReceiveResult {
  /** How the transfer ended. */
  status: ReceiveStatus;
  /** The file's name, once the header was read. */
  name?: string;
  /** The announced size, once the header was read. */
  size?: number;
  /** The offset the transfer started from (more than 0 when resumed). */
  offset: number;
  /** Bytes of file data read from this connection. */
  received: number;
  /** The verified SHA-256 (hex), when saved. */
  sha256?: string;
  /** The saved file's path, when saved. */
  path?: string;
  /** Why it was not saved. */
  reason?: string;
}

/** Per-connection hooks for {@linkcode FileReceiver.receive}. */
export interface ReceiveContext {
  /** Aborting it ends the transfer (server shutdown); the part received is kept. */
  signal?: AbortSignal;
  /** Called as data arrives (keeps an idle timeout from firing). */
  touch?: () => void;
  /** Called once the header is accepted, with the offset the transfer resumes from. */
  onStart?: (name: string, size: number, offset: number) => void;
}

/** The connection ended before the transfer was complete. */
class Interrupted extends Error {}

/**
 * Receives files into a directory, one per connection, any number at once.
 *
 * Each file is written to `DIR/.NAME.part` and hashed as it arrives; only
 * when the size and SHA-256 match is it renamed to `DIR/NAME`, so a file
 * under its real name is always complete. An interrupted transfer keeps its
 * `.part` file, and the next sender of the same name resumes from it; a
 * corrupted one is deleted. Two senders of the same name at once: the second
 * is told to retry later.
 *
 * Memory per transfer is bounded by the read buffer (at most 1 MiB), whatever
 * the file size: nothing is held but the running hash.
 *
 * With a `secret`, each header is answered with a challenge, and until the
 * sender's proof checks out nothing is looked at or written: a sender with
 * no secret or a wrong one gets the verdict {@linkcode NEEDS_SECRET} or
 * {@linkcode WRONG_SECRET} after a delay that grows with each failure from
 * its address, and no `.part` file is created.
 *
 * @example A receiver on a port
 * ```ts ignore
 * import { FileReceiver } from "./file_receiver.ts";
 * import { serveTcp } from "../tcp/serve_tcp.ts";
 *
 * await Deno.mkdir("received", { recursive: true });
 * const receiver = new FileReceiver({ dir: "received" });
 * const server = serveTcp(async (conn, ctx) => {
 *   const result = await receiver.receive(conn, ctx);
 *   console.log(result.status, result.name, result.reason ?? "");
 * }, { port: 7003 });
 * ```
 */
export class FileReceiver {
  #dir: string;
  #maxSize: number;
  #overwrite: boolean;
  #sync: boolean;
  #secret: CryptoKey | undefined;
  #throttle: FailureThrottle;
  #textHint: Uint8Array;
  #active = new Set<string>();

  /**
   * Creates a receiver.
   *
   * @param options Directory and limits.
   * @throws {RangeError} If `maxSize` is not a non-negative safe integer.
   */
  constructor(options: FileReceiverOptions) {
    this.#dir = options.dir.replace(/[\\/]+$/, "") || "/";
    this.#maxSize = options.maxSize ?? DEFAULT_MAX_FILE_SIZE;
    if (!Number.isSafeInteger(this.#maxSize) || this.#maxSize < 0) {
      throw new RangeError(
        `Cannot create FileReceiver: maxSize ${this.#maxSize} is not a byte count`,
      );
    }
    this.#overwrite = options.overwrite ?? false;
    this.#sync = options.sync ?? true;
    this.#secret = options.secret;
    this.#throttle = options.throttle ?? new FailureThrottle();
    this.#textHint = new TextEncoder().encode(options.textHint ?? DEFAULT_TEXT_HINT);
  }

  /** True when senders must prove they know a secret. */
  get requiresSecret(): boolean {
    return this.#secret !== undefined;
  }

  /** Names being received right now. */
  get active(): ReadonlySet<string> {
    return this.#active;
  }

  /**
   * Runs the receiving side of the protocol on one connection. Never throws
   * for what a peer does: the outcome is in the result, and the peer got a
   * verdict saying why whenever the connection still allowed it.
   *
   * @param conn The connection; the caller closes it afterwards.
   * @param context Shutdown signal and hooks.
   * @returns How the transfer ended.
   */
  async receive(conn: Deno.Conn, context: ReceiveContext = {}): Promise<ReceiveResult> {
    const result: ReceiveResult = { status: "interrupted", offset: 0, received: 0 };
    const reader = new BufferedReader(conn, { initialSize: 16_384, maxSize: 1_048_576 });
    let phase: "header" | "data" | "done" = "header";
    const onAbort = () => {
      if (phase === "data") {
        // Only in the data phase is nothing else being written: tell the
        // sender why before closing, so it can say "resume later".
        const verdict = encodeMessage({
          type: "verdict",
          ok: false,
          error: "the receiver is shutting down; send again later to resume",
          retry: true,
        });
        conn.write(verdict).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch { /* the handler closed it first */ }
        });
      } else {
        closeQuietly(conn);
      }
    };
    context.signal?.addEventListener("abort", onAbort, { once: true });

    const verdict = async (message: Omit<VerdictMessage, "type">) => {
      try {
        await writeAll(conn, encodeMessage({ type: "verdict", ...message }));
      } catch (error) {
        if (!isDisconnectError(error)) throw error;
      }
    };

    try {
      if (context.signal?.aborted) throw new Interrupted();
      let header;
      let payload: Uint8Array;
      try {
        payload = await guard(reader.readFrame({ maxFrameSize: MAX_CONTROL_FRAME_SIZE }));
        // The shape and the name only: the receiver's own state (its size
        // limit, its files) is none of an unproven sender's business.
        header = decodeMessage(payload, ["file"]);
      } catch (error) {
        if (error instanceof Interrupted) throw error;
        if (error instanceof FrameTooLargeError && looksLikeText(error.size)) {
          // Text (a file pushed with nc, a typed line, HTTP) read as a length:
          // a framed verdict would be binary noise to the person at the
          // other end. Say it in text.
          return await this.#hint(conn, reader, result);
        }
        return await this.#refuse(result, verdict, (error as Error).message);
      }
      const { name, size } = header;
      result.name = name;
      result.size = size;
      if (this.#secret) {
        const refusal = await this.#authenticate(conn, reader, this.#secret, payload, context);
        if (refusal !== undefined) return await this.#refuse(result, verdict, refusal);
      }
      if (size > this.#maxSize) {
        return await this.#refuse(
          result,
          verdict,
          `cannot accept ${name}: size ${size} exceeds the receiver's max-size of ${this.#maxSize} bytes`,
        );
      }
      const finalPath = `${this.#dir}/${name}`;
      const partPath = `${this.#dir}/.${name}.part`;
      if (this.#active.has(name)) {
        return await this.#refuse(
          result,
          verdict,
          `${name} is being received from another sender; try again later`,
          true,
        );
      }
      if (!this.#overwrite && await exists(finalPath)) {
        return await this.#refuse(
          result,
          verdict,
          `${name} already exists on the receiver (it runs without --overwrite)`,
        );
      }

      this.#active.add(name);
      let file: Deno.FsFile | undefined;
      let keepPart = true;
      try {
        let hash: Hash;
        try {
          file = await Deno.open(partPath, { read: true, write: true, create: true });
          const have = (await file.stat()).size;
          // A part longer than the new file cannot be its prefix: start over.
          result.offset = have <= size ? have : 0;
          // Hashing a large part takes seconds: it counts as activity.
          hash = result.offset > 0
            ? await hashFilePrefix(file, result.offset, { onProgress: () => context.touch?.() })
            : createHash("sha256");
        } catch (error) {
          keepPart = false;
          throw error;
        }
        await guard(writeAll(
          conn,
          encodeMessage({
            type: "resume",
            offset: result.offset,
            sha256: hash.copy().digest("hex"),
          }),
        ));

        const startPayload = await guard(
          reader.readFrame({ maxFrameSize: MAX_CONTROL_FRAME_SIZE }),
        );
        let start;
        try {
          start = decodeMessage(startPayload, ["start"]).offset;
          if (start !== 0 && start !== result.offset) {
            throw new RangeError(
              `Cannot start at ${start}: the receiver offered ${result.offset} (or 0 to start over)`,
            );
          }
        } catch (error) {
          if (result.offset === 0) keepPart = false;
          return await this.#refuse(result, verdict, (error as Error).message);
        }
        if (start !== result.offset) {
          // The sender's first bytes differ from our part: it is another file.
          result.offset = 0;
          hash = createHash("sha256");
        }
        await file.truncate(start);
        await file.seek(start, Deno.SeekMode.Start);
        context.onStart?.(name, size, start);

        phase = "data";
        for (let remaining = size - start; remaining > 0;) {
          const chunk = await guard(reader.readSome(remaining));
          hash.update(chunk);
          await writeAll(file, chunk);
          remaining -= chunk.length;
          result.received += chunk.length;
          context.touch?.();
        }
        const trailer = await guard(reader.readExact(SHA256_SIZE));
        phase = "done";

        const digest = hash.digest("hex");
        const written = (await file.stat()).size;
        if (toHex(trailer) !== digest || written !== size) {
          keepPart = false;
          result.status = "rejected";
          result.reason = written !== size
            ? `size mismatch: wrote ${written} bytes, expected ${size}`
            : `SHA-256 mismatch: the data was corrupted in transit (received ${
              digest.slice(0, 16)
            }…, sender says ${toHex(trailer).slice(0, 16)}…)`;
          await verdict({ ok: false, error: result.reason });
          return result;
        }
        if (this.#sync) await file.syncData();
        file.close();
        file = undefined;

        keepPart = false;
        if (!await placeFile(partPath, finalPath, this.#overwrite)) {
          result.status = "rejected";
          result.reason = `${name} appeared on the receiver during the transfer; not overwritten`;
          await verdict({ ok: false, error: result.reason });
          return result;
        }
        Object.assign(result, { status: "saved", sha256: digest, path: finalPath });
        await verdict({ ok: true, name, size, sha256: digest });
        return result;
      } catch (error) {
        if (error instanceof Interrupted) {
          // A part with no byte in it is not worth keeping.
          if (result.offset + result.received === 0) keepPart = false;
          throw error;
        }
        keepPart = false;
        result.status = "failed";
        result.reason = `cannot save ${name}: ${describeLocalError(error, this.#dir)}`;
        await verdict({ ok: false, error: `the receiver could not save ${name}` });
        return result;
      } finally {
        file?.close();
        if (!keepPart) await Deno.remove(partPath).catch(() => {});
        this.#active.delete(name);
      }
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      result.status = "interrupted";
      result.reason = context.signal?.aborted
        ? "the receiver is shutting down"
        : "the sender disconnected before the end";
      return result;
    } finally {
      context.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Challenges the sender; resolves to the refusal, or `undefined` if its proof is right. */
  async #authenticate(
    conn: Deno.Conn,
    reader: BufferedReader,
    key: CryptoKey,
    header: Uint8Array,
    context: ReceiveContext,
  ): Promise<string | undefined> {
    const nonce = createNonce();
    await guard(writeAll(conn, encodeMessage({ type: "challenge", nonce: toHex(nonce) })));
    let refusal: string | undefined;
    try {
      const answer = await guard(reader.readFrame({ maxFrameSize: MAX_CONTROL_FRAME_SIZE }));
      const { hmac } = decodeMessage(answer, ["auth"]);
      if (hmac === undefined) refusal = NEEDS_SECRET;
      else if (!await verifyChallenge(key, nonce, header, fromHex(hmac))) refusal = WRONG_SECRET;
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      // Malformed or oversized: a failure like a wrong secret (and slowed the same way).
      refusal = (error as Error).message;
    }
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    if (refusal === undefined) {
      this.#throttle.succeed(address);
      return undefined;
    }
    // Hold the answer back: guessing from one address gets slower with each miss.
    const delay = this.#throttle.fail(address);
    await sleep(delay, undefined, { signal: context.signal }).catch(() => {});
    if (context.signal?.aborted) throw new Interrupted("shutting down");
    return refusal;
  }

  /** Answers a client that does not speak the protocol in plain text, then lets it finish. */
  async #hint(
    conn: Deno.Conn,
    reader: BufferedReader,
    result: ReceiveResult,
  ): Promise<ReceiveResult> {
    result.status = "refused";
    result.reason = "not a file-transfer client (its first bytes are not a frame); told so in text";
    await sendTextHint(conn, reader, this.#textHint);
    return result;
  }

  async #refuse(
    result: ReceiveResult,
    verdict: (message: Omit<VerdictMessage, "type">) => Promise<void>,
    message: string,
    retry = false,
  ): Promise<ReceiveResult> {
    // Lib errors start "Cannot ...": the sender prints the reason mid-sentence.
    const reason = message.replace(/^Cannot /, "cannot ");
    result.status = "refused";
    result.reason = reason;
    await verdict(retry ? { ok: false, error: reason, retry } : { ok: false, error: reason });
    return result;
  }
}

/** Awaits a read or write on the connection; a disconnect or early end becomes {@linkcode Interrupted}. */
async function guard<T>(operation: Promise<T | null>): Promise<T> {
  let value: T | null;
  try {
    value = await operation;
  } catch (error) {
    if (isDisconnectError(error) || error instanceof IncompleteFrameError) {
      throw new Interrupted((error as Error).message);
    }
    throw error;
  }
  if (value === null) throw new Interrupted("end of stream");
  return value;
}

function describeLocalError(error: unknown, dir: string): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `permission denied (run with --allow-read=${dir} --allow-write=${dir})`;
  }
  return error instanceof Error ? error.message : String(error);
}
