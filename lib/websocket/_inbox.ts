/**
 * What a WebSocket connection received and the application has not taken
 * yet: messages, then possibly the peer's Close frame or a deferred protocol
 * error, in order.
 *
 * @module
 */

/** A first-in first-out list that is emptied (not shifted) once read through. */
export class Inbox<T> {
  #items: T[] = [];
  #next = 0;

  /** True while items are waiting to be taken. */
  get waiting(): boolean {
    return this.#next < this.#items.length;
  }

  /** Adds an item at the end. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Takes the first item, or returns `undefined` when none is waiting. */
  take(): T | undefined {
    if (this.#next >= this.#items.length) return undefined;
    const item = this.#items[this.#next++]!;
    if (this.#next === this.#items.length) this.clear();
    return item;
  }

  /** Drops every waiting item. */
  clear(): void {
    this.#items = [];
    this.#next = 0;
  }
}
