/**
 * The accept loop's pause: a timed wait that shutdown cuts short, and that a
 * closed socket cuts short too when the loop waits for a descriptor.
 *
 * @module
 */

/** One accept loop's pause; at most one wait at a time. */
export class AcceptPause {
  /** True while the accept loop waits for a descriptor: a connection's end wakes it. */
  #wakeOnRelease = false;
  #wakeAcceptLoop: (() => void) | null = null;

  /** Waits `ms`, or less if shutdown begins or (with `wakeOnRelease`) a socket is closed. */
  pause(ms: number, wakeOnRelease = false): Promise<void> {
    this.#wakeOnRelease = wakeOnRelease;
    return new Promise((resolve) => {
      const wake = () => {
        this.#wakeOnRelease = false;
        this.#wakeAcceptLoop = null;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakeAcceptLoop = wake;
    });
  }

  /** A socket was closed: if the accept loop waits for a descriptor, it may go on. */
  released(): void {
    if (this.#wakeOnRelease) this.#wakeAcceptLoop?.();
  }

  /** Ends the current wait at once (shutdown). */
  wake(): void {
    this.#wakeAcceptLoop?.();
  }
}
