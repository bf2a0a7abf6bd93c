/**
 * The session table of a UDP proxy: one entry per client address, bounded,
 * with idle entries expiring. UDP has no connections, so the proxy makes
 * its own: the client's address is the key, and each session owns the
 * upstream socket whose replies go back to that client.
 *
 * @module
 */

/** Options for {@linkcode UdpSessionTable}. */
export interface UdpSessionTableOptions {
  /**
   * The most sessions at once; adding one more evicts the least recently
   * active (each session holds a socket, a file descriptor).
   *
   * @default {1024}
   */
  maxSessions?: number;
  /**
   * A session without traffic for this many ms expires at the next sweep.
   *
   * @default {60000}
   */
  idleTimeout?: number;
  /**
   * The clock, in ms; tests pass a fake one.
   *
   * @default {() => performance.now()}
   */
  now?: () => number;
}

interface Entry<T> {
  value: T;
  lastActive: number;
}

/**
 * Client address → session, in order of last activity (a `Map` keeps
 * insertion order, so re-inserting on activity keeps the least recently
 * active first: eviction and expiry look at the front only).
 *
 * @example Evict the least recently active, expire the idle
 * ```ts
 * import assert from "node:assert/strict";
 * import { UdpSessionTable } from "./udp_session_table.ts";
 *
 * let now = 0;
 * const table = new UdpSessionTable<string>({ maxSessions: 2, idleTimeout: 1000, now: () => now });
 * table.add("a", "session a");
 * table.add("b", "session b");
 * table.get("a"); // a is now the most recently active
 * assert.deepEqual(table.add("c", "session c"), ["b", "session b"]);
 * now += 1000;
 * assert.deepEqual(table.expire().map(([key]) => key), ["a", "c"]);
 * assert.equal(table.size, 0);
 * ```
 */
export class UdpSessionTable<T> {
  /** See {@linkcode UdpSessionTableOptions.maxSessions}. */
  readonly maxSessions: number;
  /** See {@linkcode UdpSessionTableOptions.idleTimeout}. */
  readonly idleTimeout: number;
  #entries = new Map<string, Entry<T>>();
  #now: () => number;

  /**
   * Creates an empty table.
   *
   * @param options Size limit, idle timeout and clock.
   * @throws {RangeError} If `maxSessions` is not a positive integer or
   *   `idleTimeout` is not a positive number.
   */
  constructor(options: UdpSessionTableOptions = {}) {
    this.maxSessions = options.maxSessions ?? 1024;
    this.idleTimeout = options.idleTimeout ?? 60_000;
    if (!Number.isInteger(this.maxSessions) || this.maxSessions < 1) {
      throw new RangeError(
        `Cannot create UdpSessionTable: maxSessions ${this.maxSessions} is not a positive integer`,
      );
    }
    if (!(this.idleTimeout > 0)) {
      throw new RangeError(
        `Cannot create UdpSessionTable: idleTimeout ${this.idleTimeout} is not a positive number`,
      );
    }
    this.#now = options.now ?? (() => performance.now());
  }

  /** How many sessions are open. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Looks up a session and marks it active.
   *
   * @param key The client address, e.g. `"127.0.0.1:50000"`.
   * @returns The session, or `undefined`.
   */
  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.touch(key);
    return entry.value;
  }

  /**
   * Marks a session active (a reply came back through it), postponing its expiry.
   *
   * @param key The client address.
   */
  touch(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.lastActive = this.#now();
    // Move it to the back: the front stays the least recently active.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  /**
   * Adds a session, evicting the least recently active one when full.
   *
   * @param key The client address.
   * @param value The session.
   * @returns The evicted `[key, session]`, for the caller to close, or `null`.
   * @throws {Error} If `key` is already in the table.
   */
  add(key: string, value: T): [string, T] | null {
    if (this.#entries.has(key)) {
      throw new Error(`Cannot add session: ${key} already has one`);
    }
    let evicted: [string, T] | null = null;
    if (this.#entries.size >= this.maxSessions) {
      const [oldKey, oldEntry] = this.#entries.entries().next().value!;
      this.#entries.delete(oldKey);
      evicted = [oldKey, oldEntry.value];
    }
    this.#entries.set(key, { value, lastActive: this.#now() });
    return evicted;
  }

  /**
   * Removes a session.
   *
   * @param key The client address.
   * @returns Whether there was one.
   */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /**
   * Removes the sessions idle for `idleTimeout` or longer.
   *
   * @returns The expired `[key, session]` pairs, least recently active first,
   *   for the caller to close.
   */
  expire(): [string, T][] {
    const expired: [string, T][] = [];
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (now - entry.lastActive < this.idleTimeout) break;
      expired.push([key, entry.value]);
    }
    for (const [key] of expired) this.#entries.delete(key);
    return expired;
  }

  /**
   * Removes every session (at shutdown).
   *
   * @returns All `[key, session]` pairs, for the caller to close.
   */
  clear(): [string, T][] {
    const all = [...this.#entries].map(([key, entry]) => [key, entry.value] as [string, T]);
    this.#entries.clear();
    return all;
  }
}
