/**
 * The sending side of a WebSocket connection: frames are batched, then
 * flushed to a bounded {@linkcode OutboundQueue} that writes them in the
 * background, in order.
 *
 * @module
 */

import { OutboundQueue, type OutboundQueueFailure } from "../io/outbound_queue.ts";
import type { TextFrame } from "./websocket_frame.ts";

/** What {@linkcode OutgoingFrames} needs from its connection. */
export interface OutgoingFramesOptions {
  /** Largest send queue in bytes, batch included. */
  maxBufferedAmount: number;
  /** The queue overflowed or a write failed. */
  onFailure: (failure: OutboundQueueFailure) => void;
  /**
   * True while the application works through a batch of received messages and will be back in
   * `receive()` (which flushes) to take the rest.
   */
  inBatch: () => boolean;
}

/** The largest batch written from the connection's spare buffer, in bytes. */
const SPARE_SIZE = 1024;

/** A batch of frames sent since the last flush, in front of the connection's send queue. */
export class OutgoingFrames {
  #queue: OutboundQueue;
  #inBatch: () => boolean;

  // Frames sent since the last flush. An echo handler sends one reply per message of a chunk;
  // joining them makes one write (one system call) per chunk instead of one per message.
  #pending: (Uint8Array | TextFrame)[] = [];
  #pendingBytes = 0;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #flushSoon = (): void => void this.flush(); // one closure per connection, not per message
  #maxBufferedAmount: number;
  // A small batch is written from this buffer when the queue is empty, and the buffer is used
  // again once that write is done (the queue is empty again): a ping-pong makes no buffer per
  // reply. Made on the first such batch, so a connection that never sends has none.
  #spare: Uint8Array | undefined;

  constructor(conn: Deno.Conn, { maxBufferedAmount, onFailure, inBatch }: OutgoingFramesOptions) {
    this.#maxBufferedAmount = maxBufferedAmount;
    this.#inBatch = inBatch;
    // The soft limit equals the hard one: a send queue either fits or the peer is cut off.
    this.#queue = new OutboundQueue(conn, {
      hardLimit: maxBufferedAmount,
      softLimit: maxBufferedAmount,
      onFailure,
    });
  }

  /** Bytes queued for sending and not yet written to the socket. */
  get bufferedAmount(): number {
    return this.#queue.bufferedBytes + this.#pendingBytes;
  }

  /**
   * Adds a frame to the pending batch. The batch is flushed to the send queue when the
   * application next waits for a message, or soon after if it does not (a send from a timer or
   * from another connection's handler).
   */
  enqueue(frame: Uint8Array | TextFrame): boolean {
    this.#pending.push(frame);
    this.#pendingBytes += frame.byteLength;
    if (
      this.#pendingBytes >= 65_536 ||
      this.#queue.bufferedBytes + this.#pendingBytes > this.#maxBufferedAmount
    ) {
      return this.flush(); // the queue applies its limit, and fails if this crossed it
    }
    if (this.#pending.length === 1) {
      if (this.#inBatch()) {
        // The application is working through a batch of messages and will be back in receive()
        // to take the rest; the timer only covers one that stops reading meanwhile.
        this.#flushTimer = setTimeout(this.#flushSoon, 0);
      } else {
        queueMicrotask(this.#flushSoon); // after the caller's synchronous sends
      }
    }
    return true;
  }

  /** Moves the pending batch to the send queue, as one chunk. */
  flush(): boolean {
    this.cancelFlush();
    if (this.#pending.length === 0) return true;
    const first = this.#pending[0]!;
    let chunk: Uint8Array;
    if (this.#pending.length === 1 && first instanceof Uint8Array) {
      chunk = first;
    } else {
      // One buffer for the batch; text frames are written straight into it. The spare buffer
      // is free when nothing is queued or being written: the queue no longer holds it.
      chunk = this.#pendingBytes <= SPARE_SIZE && this.#queue.bufferedBytes === 0
        ? (this.#spare ??= new Uint8Array(SPARE_SIZE)).subarray(0, this.#pendingBytes)
        : new Uint8Array(this.#pendingBytes);
      let at = 0;
      for (const frame of this.#pending) {
        if (frame instanceof Uint8Array) {
          chunk.set(frame, at);
          at += frame.length;
        } else {
          at = frame.writeTo(chunk, at);
        }
      }
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.#queue.enqueue(chunk);
  }

  /** Stops a scheduled flush (the batch stays pending). */
  cancelFlush(): void {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
  }

  /**
   * Stops the queue taking data and writes `last` (if given) after what is queued, even after an
   * overflow dropped the queue; see `OutboundQueue.end`.
   */
  end(last: Uint8Array | undefined, timeout: number): Promise<boolean> {
    return this.#queue.end(last, timeout);
  }
}
