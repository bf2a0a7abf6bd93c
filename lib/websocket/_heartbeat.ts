/**
 * A WebSocket connection's heartbeat: a Ping after `pingInterval` without
 * hearing from the peer, a close after `idleTimeout`, with one timer per
 * connection.
 *
 * @module
 */

/** What {@linkcode Heartbeat} needs from its connection. */
export interface HeartbeatOptions {
  /** Ping after this many ms of silence; `0` disables it. */
  pingInterval: number;
  /** Close after this many ms of silence; `0` disables it. */
  idleTimeout: number;
  /** False once the connection is closing: the heartbeat stops. */
  isOpen: () => boolean;
  /** True while a read is pending, that is while the application waits for a message. */
  isReading: () => boolean;
  /** Sends a Ping. */
  ping: () => void;
  /** Closes the connection for idleness. */
  onIdle: () => void;
}

/** The timer that pings a silent peer and closes an idle connection. */
export class Heartbeat {
  #options: HeartbeatOptions;
  #lastHeard = Date.now();
  #pingSent = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  /** Arms the timer, unless the heartbeat was stopped already. */
  start(): void {
    this.#schedule();
  }

  /** The peer was heard from (any chunk counts, a Pong included). */
  heard(): void {
    this.#lastHeard = Date.now();
    this.#pingSent = false;
  }

  /** Stops the timer for good. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    const { pingInterval, idleTimeout } = this.#options;
    const periods = [pingInterval, idleTimeout].filter((ms) => ms > 0);
    if (periods.length === 0 || this.#stopped) return;
    // Checking at a fraction of the shortest period keeps one timer per connection, re-armed
    // rarely, instead of resetting a timer on every read.
    this.#timer = setTimeout(() => this.#onHeartbeat(), Math.min(...periods) / 4);
  }

  #onHeartbeat(): void {
    const { pingInterval, idleTimeout } = this.#options;
    if (!this.#options.isOpen()) return;
    const now = Date.now();
    // Silence while nobody waits for a message is the application's doing, not the peer's.
    if (!this.#options.isReading()) this.#lastHeard = now;
    const silent = now - this.#lastHeard;
    if (idleTimeout > 0 && silent >= idleTimeout) {
      this.#options.onIdle();
      return;
    }
    if (pingInterval > 0 && silent >= pingInterval && !this.#pingSent) {
      this.#pingSent = true;
      this.#options.ping();
    }
    this.#schedule();
  }
}
