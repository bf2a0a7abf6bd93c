/**
 * A bounded outgoing queue per connection, drained by its own writer.
 *
 * A server that sends the same data to many peers must not await one peer's
 * socket before serving the next: once the kernel's buffers for a peer that
 * does not read are full (a few MiB on Linux), `write()` stays pending, and a
 * loop that awaits each peer in turn freezes for everyone.
 *
 * ```ts ignore
 * // Bad: one stuck peer stalls the whole loop
 * for (const conn of peers) await writeAll(conn, bytes);
 *
 * // Good: enqueue synchronously; each queue drains at its own peer's pace
 * for (const queue of peers) queue.enqueue(bytes);
 * ```
 *
 * The queue is bounded like Redis's client output buffers: past the hard
 * limit the peer is cut off at once; above the soft limit for longer than the
 * soft timeout it is cut off too. Either way the queued data is dropped, so a
 * slow peer costs at most `hardLimit` bytes of memory.
 *
 * @module
 */

import type { Writer } from "./write_all.ts";

/** Why an {@linkcode OutboundQueue} stopped: one of its limits, or a failed write. */
export type OutboundQueueFailureKind = "hardLimit" | "softLimit" | "writeError";

/** Details passed to {@linkcode OutboundQueueOptions.onFailure}. */
export interface OutboundQueueFailure {
  /** Which limit was crossed, or `"writeError"`. */
  kind: OutboundQueueFailureKind;
  /** Bytes queued (including a write in flight) when it happened. */
  bufferedBytes: number;
  /**
   * A sentence for logs, e.g.
   * `Cannot queue output: 1048600 bytes exceed the hard limit of 1048576 bytes`.
   */
  message: string;
  /** The error from the writer, for `"writeError"`. */
  error?: unknown;
}

/** Options for {@linkcode OutboundQueue}. */
export interface OutboundQueueOptions {
  /**
   * Bytes queued (a write in flight included) beyond which the queue fails at once.
   *
   * @default {1048576}
   */
  hardLimit?: number;
  /**
   * Bytes queued above which the soft timeout starts; the timer stops when
   * the queue drains back to or below this.
   *
   * @default {262144}
   */
  softLimit?: number;
  /**
   * Milliseconds the queue may stay above `softLimit` before it fails.
   *
   * @default {10000}
   */
  softTimeout?: number;
  /**
   * Largest single write: queued chunks are joined into writes up to this
   * size, so many small lines cost one system call instead of one each.
   *
   * @default {65536}
   */
  maxWriteSize?: number;
  /**
   * Called once when the queue fails (a limit crossed or a write error), after
   * the queued data was dropped. The owner typically closes the connection.
   *
   * @default {undefined}
   */
  onFailure?: (failure: OutboundQueueFailure) => void;
}

/**
 * A bounded queue of outgoing bytes for one connection. `enqueue()` is
 * synchronous and never blocks; a private loop writes the queued chunks to
 * the connection in order, one write at a time.
 *
 * @example Queue lines for a connection, then finish
 * ```ts ignore
 * import { OutboundQueue } from "./outbound_queue.ts";
 *
 * const conn = await Deno.connect({ port: 7002 });
 * const queue = new OutboundQueue(conn, {
 *   onFailure: (failure) => {
 *     console.error(failure.message);
 *     conn.close();
 *   },
 * });
 * queue.enqueue(new TextEncoder().encode("hello\n"));
 * await queue.end(new TextEncoder().encode("bye\n"), 1000);
 * conn.close();
 * ```
 */
export class OutboundQueue {
  #writer: Writer;
  #hardLimit: number;
  #softLimit: number;
  #softTimeout: number;
  #maxWriteSize: number;
  #onFailure: ((failure: OutboundQueueFailure) => void) | undefined;

  /** Chunks not yet handed to the writer; `#head` is the next one to write. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Bytes in `#chunks` plus the write in flight. */
  #buffered = 0;
  #writing = false;
  #writeFailedOnce = false; // a write was lost: end() must not report everything written
  #softTimer: ReturnType<typeof setTimeout> | undefined;
  #state: "open" | "ending" | "done" | "failed" = "open";
  // Settled when the queue next stops writing; made only for end() to wait on.
  #idle: PromiseWithResolvers<void> | undefined;

  /**
   * Creates an empty queue for `writer`.
   *
   * @param writer Usually a `Deno.Conn`; anything with a `write` that may write partially.
   * @param options Limits and the failure callback.
   * @throws {RangeError} If a limit is not a positive integer or `softLimit > hardLimit`.
   */
  constructor(writer: Writer, options: OutboundQueueOptions = {}) {
    this.#writer = writer;
    this.#hardLimit = positiveInteger("hardLimit", options.hardLimit ?? 1_048_576);
    this.#softLimit = positiveInteger("softLimit", options.softLimit ?? 262_144);
    this.#softTimeout = positiveInteger("softTimeout", options.softTimeout ?? 10_000);
    this.#maxWriteSize = positiveInteger("maxWriteSize", options.maxWriteSize ?? 65_536);
    if (this.#softLimit > this.#hardLimit) {
      throw new RangeError(
        `Cannot create OutboundQueue: softLimit ${this.#softLimit} exceeds hardLimit ` +
          `${this.#hardLimit}`,
      );
    }
    this.#onFailure = options.onFailure;
  }

  /** Bytes waiting to be written, including a write in flight. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** True once the queue accepts nothing more: it failed, or `end()` was called. */
  get closed(): boolean {
    return this.#state !== "open";
  }

  /** True if the queue failed (a limit crossed or a write error). */
  get failed(): boolean {
    return this.#state === "failed";
  }

  /**
   * Queues `chunk` to be written after everything queued before it. Never
   * blocks. The chunk is not copied: do not modify it afterwards.
   *
   * @param chunk Bytes to send.
   * @returns `true` if queued; `false` if the queue is closed, or if this
   * chunk crossed the hard limit (then the queue fails: its data is dropped
   * and `onFailure` is called).
   */
  enqueue(chunk: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    if (chunk.length === 0) return true;
    const buffered = this.#buffered + chunk.length;
    if (buffered > this.#hardLimit) {
      this.#fail({
        kind: "hardLimit",
        bufferedBytes: buffered,
        message: `Cannot queue output: ${buffered} bytes exceed the hard limit of ` +
          `${this.#hardLimit} bytes`,
      });
      return false;
    }
    this.#push(chunk);
    if (buffered > this.#softLimit && this.#softTimer === undefined) {
      this.#softTimer = setTimeout(() => {
        this.#softTimer = undefined;
        this.#fail({
          kind: "softLimit",
          bufferedBytes: this.#buffered,
          message: `Cannot queue output: more than ${this.#softLimit} bytes queued for ` +
            `${this.#softTimeout} ms (${this.#buffered} now)`,
        });
      }, this.#softTimeout);
    }
    return true;
  }

  /**
   * Stops accepting chunks, optionally queues one last chunk (which may exceed
   * the limits, so a goodbye line always fits), and waits until everything
   * queued was written or `timeout` milliseconds passed.
   *
   * After a failure, the data still queued was dropped: only `finalChunk` is
   * tried, after a write that was already in flight.
   *
   * @param finalChunk Bytes to send last, e.g. a goodbye line.
   * @param timeout Milliseconds to wait at most.
   * @returns `true` if everything was written, `false` on timeout or write error.
   */
  async end(finalChunk?: Uint8Array, timeout = 1000): Promise<boolean> {
    if (this.#state === "done") return true;
    if (this.#state === "open") this.#state = "ending";
    this.#clearSoftTimer();
    if (finalChunk !== undefined && finalChunk.length > 0) this.#push(finalChunk);
    if (!this.#writing && this.#buffered === 0) return this.#state !== "failed";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeout);
    });
    try {
      this.#idle ??= Promise.withResolvers<void>();
      return await Promise.race([
        this.#idle.promise.then(() => this.#buffered === 0 && !this.#writeFailedOnce),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (!this.#writing) this.#writeNext();
  }

  // The writes are a chain of `then`s, not an async loop around `writeAll`: with one small
  // message in flight (a WebSocket ping-pong) each promise less is a visible share of the round
  // trip.
  #writeNext(): void {
    if (this.#head >= this.#chunks.length) {
      this.#writing = false;
      if (this.#state === "ending" && this.#buffered === 0) this.#state = "done";
      this.#idle?.resolve();
      this.#idle = undefined;
      return;
    }
    this.#writing = true;
    this.#write(this.#takeBatch(), 0);
  }

  #write(batch: Uint8Array, offset: number): void {
    let written: Promise<number>;
    try {
      written = this.#writer.write(offset === 0 ? batch : batch.subarray(offset));
    } catch (error) {
      return this.#writeFailed(batch, error);
    }
    written.then((n) => {
      if (offset + n < batch.length) return this.#write(batch, offset + n);
      this.#buffered -= batch.length;
      if (this.#buffered <= this.#softLimit) this.#clearSoftTimer();
      this.#writeNext();
    }, (error: unknown) => this.#writeFailed(batch, error));
  }

  #writeFailed(batch: Uint8Array, error: unknown): void {
    this.#writeFailedOnce = true;
    this.#buffered = 0;
    this.#fail({
      kind: "writeError",
      bufferedBytes: batch.length,
      message: `Cannot write output: ${error instanceof Error ? error.message : error}`,
      error,
    });
    this.#writing = false;
    this.#idle?.resolve();
    this.#idle = undefined;
  }

  #takeBatch(): Uint8Array {
    const first = this.#chunks[this.#head]!;
    let end = this.#head + 1;
    let size = first.length;
    while (end < this.#chunks.length && size + this.#chunks[end]!.length <= this.#maxWriteSize) {
      size += this.#chunks[end]!.length;
      end++;
    }
    let batch = first;
    if (end > this.#head + 1) {
      batch = new Uint8Array(size);
      let at = 0;
      for (let i = this.#head; i < end; i++) {
        batch.set(this.#chunks[i]!, at);
        at += this.#chunks[i]!.length;
      }
    }
    this.#head = end;
    // Reset the array once drained instead of shifting: shift() is O(n).
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    }
    return batch;
  }

  #fail(failure: OutboundQueueFailure): void {
    if (this.#state === "failed" || this.#state === "done") return;
    this.#state = "failed";
    this.#clearSoftTimer();
    // Drop what was never handed to the writer: that is the memory a slow peer held.
    for (let i = this.#head; i < this.#chunks.length; i++) {
      this.#buffered -= this.#chunks[i]!.length;
    }
    this.#chunks = [];
    this.#head = 0;
    if (failure.kind === "writeError") this.#buffered = 0;
    this.#onFailure?.(failure);
  }

  #clearSoftTimer(): void {
    if (this.#softTimer !== undefined) {
      clearTimeout(this.#softTimer);
      this.#softTimer = undefined;
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot create OutboundQueue: ${name} ${value} is not a positive integer`);
  }
  return value;
}
