/**
 * Applies a {@linkcode DatagramFaultSchedule} to one direction of UDP
 * traffic: drops, duplicates, holds a datagram back until the next one has
 * gone (reordering), delays, and counts what it did.
 *
 * @module
 */

import type { DatagramFaultSchedule } from "./fault_schedule.ts";

/** Sends one datagram on; errors are the caller's to report. */
export type SendDatagram = (data: Uint8Array) => Promise<unknown>;

/** Options for {@linkcode DatagramShaper}. */
export interface DatagramShaperOptions {
  /**
   * A datagram held back for reordering is sent anyway after this many ms
   * when no other datagram comes to overtake it (it then counts as delayed,
   * not reordered).
   *
   * @default {1000}
   */
  maxHold?: number;
  /**
   * The most datagrams waiting out their delay at once; more are dropped
   * (counted as `overflow`), so a long `delay` under a flood stays bounded.
   *
   * @default {4096}
   */
  maxDelayed?: number;
  /** Called when `send` fails (the datagram is then lost). */
  onSendError?: (error: unknown) => void;
}

/** What a shaper did, for the summary. */
export interface DatagramShaperCounts {
  /** Datagrams pushed in. */
  received: number;
  /** Datagrams sent on, duplicates included. */
  sent: number;
  /** Dropped on purpose. */
  lost: number;
  /** Sent a second time. */
  duplicated: number;
  /** Sent after a datagram that came after them. */
  reordered: number;
  /** Dropped because `maxDelayed` datagrams were already waiting. */
  overflow: number;
}

/**
 * One direction of a UDP proxy's faults.
 *
 * @example Every datagram duplicated
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramShaper } from "./datagram_shaper.ts";
 * import { DatagramFaultSchedule } from "./fault_schedule.ts";
 *
 * const sent: number[] = [];
 * const shaper = new DatagramShaper(
 *   new DatagramFaultSchedule({ duplicate: 1 }),
 *   (data) => Promise.resolve(sent.push(data[0]!)),
 * );
 * shaper.push(new Uint8Array([7]));
 * assert.deepEqual(sent, [7, 7]);
 * assert.equal(shaper.counts.duplicated, 1);
 * shaper.close();
 * ```
 */
export class DatagramShaper {
  /** The counts so far. */
  readonly counts: DatagramShaperCounts = {
    received: 0,
    sent: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    overflow: 0,
  };
  #schedule: DatagramFaultSchedule;
  #send: SendDatagram;
  #maxHold: number;
  #maxDelayed: number;
  #onSendError: (error: unknown) => void;
  #held: { copies: Uint8Array[]; delay: number; timer: ReturnType<typeof setTimeout> } | null =
    null;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  /**
   * Creates a shaper.
   *
   * @param schedule Decides each datagram's fate.
   * @param send Sends a datagram on.
   * @param options How long a reordered datagram may wait, how many may be
   *   delayed, and error reporting.
   * @throws {RangeError} If `maxHold` is not a positive number.
   */
  constructor(
    schedule: DatagramFaultSchedule,
    send: SendDatagram,
    options: DatagramShaperOptions = {},
  ) {
    this.#schedule = schedule;
    this.#send = send;
    this.#maxHold = options.maxHold ?? 1000;
    if (!(this.#maxHold > 0)) {
      throw new RangeError(`Cannot shape datagrams: maxHold ${this.#maxHold} is not positive`);
    }
    this.#maxDelayed = options.maxDelayed ?? 4096;
    this.#onSendError = options.onSendError ?? (() => {});
  }

  /**
   * Takes one datagram: drops, duplicates, holds or delays it as scheduled.
   *
   * @param data The datagram; it is kept (not copied) until sent.
   */
  push(data: Uint8Array): void {
    if (this.#closed) return;
    this.counts.received++;
    const fate = this.#schedule.next();
    if (fate.lost) {
      this.counts.lost++;
      return;
    }
    const copies = fate.duplicated ? [data, data] : [data];
    if (fate.duplicated) this.counts.duplicated++;
    if (fate.reordered && !this.#held) {
      const timer = setTimeout(() => this.#releaseHeld(false), this.#maxHold);
      this.#held = { copies, delay: fate.delay, timer };
      return;
    }
    this.#emit(copies, fate.delay);
    // The held datagram goes out after this one: they swapped places.
    this.#releaseHeld(true);
  }

  /** Drops whatever is held or delayed and stops the timers. */
  close(): void {
    this.#closed = true;
    if (this.#held) clearTimeout(this.#held.timer);
    this.#held = null;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #releaseHeld(overtaken: boolean): void {
    const held = this.#held;
    if (!held) return;
    clearTimeout(held.timer);
    this.#held = null;
    if (overtaken) this.counts.reordered++;
    this.#emit(held.copies, held.delay);
  }

  #emit(copies: Uint8Array[], delay: number): void {
    if (delay <= 0) {
      for (const data of copies) this.#sendNow(data);
      return;
    }
    if (this.#timers.size >= this.#maxDelayed) {
      this.counts.overflow += copies.length;
      return;
    }
    // Rounded up: a timer drops the fraction of a delay and would fire up to a millisecond early.
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      for (const data of copies) this.#sendNow(data);
    }, Math.ceil(delay));
    this.#timers.add(timer);
  }

  #sendNow(data: Uint8Array): void {
    if (this.#closed) return;
    this.counts.sent++;
    this.#send(data).catch((error) => this.#onSendError(error));
  }
}
