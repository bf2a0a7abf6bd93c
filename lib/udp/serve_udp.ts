/**
 * A UDP server loop: receive datagrams, limit each source's rate, hand each
 * datagram to a handler and send back what it returns, count what was
 * dropped and why, and shut down on a signal.
 *
 * Needs `--unstable-net` (or `"unstable": ["net"]` in `deno.json`).
 *
 * @module
 */

import { type ServerLogger, STDERR_LOGGER } from "../net/logger.ts";
import { onShutdownSignal } from "../net/shutdown_signals.ts";
import { listenUdp } from "./listen_udp.ts";
import { SourceRateLimiter } from "./source_rate_limiter.ts";

/**
 * Handles one datagram. Returns the reply to send to its sender, or
 * `null`/`undefined` for none. `datagram` is a view into the server's
 * receive buffer: it is valid until the returned promise settles, so copy
 * it to keep it.
 */
export type DatagramHandler = (
  datagram: Uint8Array,
  from: Deno.NetAddr,
) => Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;

/** Options for {@linkcode serveUdp}. */
export interface ServeUdpOptions {
  /**
   * The address to bind. A reply goes to whatever source address a
   * datagram carries, and UDP source addresses are easily forged, so a
   * public address turns the server into a reflector: bind one on purpose.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one (read it back from `addr`).
   *
   * @default {0}
   */
  port?: number;
  /**
   * The largest datagram handled, in bytes (1 to 65535); longer ones are
   * dropped and counted. 65507 is the most UDP can carry over IPv4; IPv6
   * allows 65527.
   *
   * @default {65507}
   */
  maxDatagram?: number;
  /**
   * Datagrams per second allowed from each source IP address; the excess is
   * dropped and counted, never queued. 0 turns the limit off.
   *
   * @default {10000}
   */
  rate?: number;
  /**
   * Datagrams a source may send in a burst above `rate`.
   *
   * @default {the rate}
   */
  burst?: number;
  /**
   * The most source addresses rate-limited at once (bounds the memory). A
   * new source always gets in: when the table is full the least recently
   * seen source is forgotten (see `SourceRateLimiter`), and forgetting one
   * that was over its rate is counted in `stats.sourcesEvicted`.
   *
   * @default {10000}
   */
  maxSources?: number;
  /**
   * Called for every dropped datagram, after it is counted (for metrics, or
   * to log drops in detail). Runs on the receive loop: keep it quick.
   *
   * @default {undefined}
   */
  onDrop?: (reason: DropReason, from: Deno.NetAddr) => void;
  /** Shut down when this signal aborts. */
  signal?: AbortSignal;
  /**
   * Shut down on SIGINT (Ctrl+C) and SIGTERM. A second SIGINT, 250 ms or
   * more after the first, exits at once with code 130 (see
   * `onShutdownSignal`). For several servers, use `serveHosts` instead.
   *
   * @default {false}
   */
  handleSignals?: boolean;
  /**
   * Where drops, errors and shutdown are logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** Why a {@linkcode UdpServer} dropped a datagram. */
export type DropReason = "oversize" | "rate-limited";

/** Counters of a {@linkcode UdpServer}. */
export interface UdpServerStats {
  /** Datagrams received, dropped ones included. */
  received: number;
  /** Replies sent. */
  replied: number;
  /** Datagrams dropped because their source exceeded the rate. */
  rateLimited: number;
  /**
   * Sources forgotten to make room in a full table while still over their
   * rate (with more active sources than `maxSources`, their limit restarts).
   */
  sourcesEvicted: number;
  /** Datagrams dropped because they were longer than `maxDatagram`. */
  oversize: number;
  /** Replies the OS refused to send. */
  sendErrors: number;
  /** Datagrams whose handler threw. */
  handlerErrors: number;
}

/**
 * A running UDP server, returned by {@linkcode serveUdp}.
 *
 * @example Shut down with `await using`
 * ```ts ignore
 * import { serveUdp } from "./serve_udp.ts";
 *
 * await using server = serveUdp((datagram) => datagram);
 * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
 * ```
 */
export class UdpServer implements AsyncDisposable {
  /** The bound address; with `port: 0` this holds the port that was picked. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has stopped receiving and closed its socket. */
  readonly finished: Promise<void>;

  #socket: Deno.DatagramConn;
  #handler: DatagramHandler;
  #log: ServerLogger;
  #buffer: Uint8Array;
  #maxDatagram: number;
  #limiter: SourceRateLimiter | null;
  #closing = false;
  #stats: UdpServerStats = {
    received: 0,
    replied: 0,
    rateLimited: 0,
    sourcesEvicted: 0,
    oversize: 0,
    sendErrors: 0,
    handlerErrors: 0,
  };
  #warned = new Set<string>();
  #onDrop: ServeUdpOptions["onDrop"];
  #removeSignalListeners: (() => void) | null = null;
  #externalSignal: AbortSignal | undefined;
  #onAbort: (() => void) | null = null;

  /**
   * Binds and starts receiving. Use {@linkcode serveUdp} rather than this constructor.
   *
   * @param handler Called for each datagram within the limits.
   * @param options Address, limits and shutdown.
   * @throws {RangeError} If `maxDatagram`, `rate`, `burst` or `maxSources` is out of range.
   * @throws {TypeError} If the runtime was started without `--unstable-net`.
   * @throws {Error} If the address cannot be bound; the message says why and what to do.
   */
  constructor(handler: DatagramHandler, options: ServeUdpOptions = {}) {
    const hostname = options.hostname ?? "127.0.0.1";
    const port = options.port ?? 0;
    this.#maxDatagram = options.maxDatagram ?? 65_507;
    if (
      !Number.isInteger(this.#maxDatagram) || this.#maxDatagram < 1 || this.#maxDatagram > 65_535
    ) {
      throw new RangeError(`Cannot serve: maxDatagram ${this.#maxDatagram} is not from 1 to 65535`);
    }
    const rate = options.rate ?? 10_000;
    if (!(rate >= 0) || !Number.isFinite(rate)) {
      throw new RangeError(`Cannot serve: rate ${rate} is not a non-negative number`);
    }
    this.#limiter = rate === 0 ? null : new SourceRateLimiter({
      rate,
      burst: options.burst,
      maxSources: options.maxSources,
    });
    // One byte more than the limit: a datagram that fills the buffer was too long.
    this.#buffer = new Uint8Array(this.#maxDatagram + 1);
    this.#handler = handler;
    this.#log = options.logger ?? STDERR_LOGGER;
    this.#onDrop = options.onDrop;

    this.#socket = listenUdp(hostname, port);
    this.addr = this.#socket.addr as Deno.NetAddr;

    if (options.handleSignals) {
      this.#removeSignalListeners = onShutdownSignal(() => void this.shutdown(), {
        logger: this.#log,
      });
    }
    if (options.signal) {
      this.#externalSignal = options.signal;
      this.#onAbort = () => this.shutdown();
      if (options.signal.aborted) queueMicrotask(this.#onAbort);
      else options.signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    this.finished = this.#serve();
  }

  /** A snapshot of the counters. */
  get stats(): UdpServerStats {
    return { ...this.#stats, sourcesEvicted: this.#limiter?.evictions ?? 0 };
  }

  /** True once shutdown has begun. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Stops receiving and closes the socket. UDP has no connections, so there
   * is nobody to tell: clients notice only that replies stop.
   *
   * @returns {@linkcode UdpServer.finished}.
   */
  shutdown(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      // Closing the socket makes the pending receive() reject, which ends the loop.
      try {
        this.#socket.close();
      } catch { /* already closed */ }
      this.#removeSignalListeners?.();
      if (this.#onAbort) this.#externalSignal?.removeEventListener("abort", this.#onAbort);
    }
    return this.finished;
  }

  /** Shuts the server down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #serve(): Promise<void> {
    while (!this.#closing) {
      let datagram: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [data, addr] = await this.#socket.receive(this.#buffer);
        datagram = data;
        from = addr as Deno.NetAddr;
      } catch (error) {
        if (this.#closing || error instanceof Deno.errors.BadResource) break;
        // An error here concerns one datagram (on some systems, an ICMP
        // error for an earlier reply): keep serving the others.
        this.#log.debug(`receive failed: ${(error as Error).message}`);
        continue;
      }
      this.#stats.received++;
      if (datagram.length > this.#maxDatagram) {
        this.#drop("oversize", from, `longer than --max-datagram ${this.#maxDatagram} bytes`);
        continue;
      }
      if (this.#limiter) {
        const evictions = this.#limiter.evictions;
        const verdict = this.#limiter.check(from.hostname);
        if (this.#limiter.evictions > evictions) {
          this.#warnOnce(
            "evicted",
            `source table full (--max-sources ${this.#limiter.maxSources}): forgetting the ` +
              "least recently seen sources to make room (further evictions are only counted)",
          );
        }
        if (verdict !== "allowed") {
          this.#drop(verdict, from, "over its --rate");
          continue;
        }
      }

      let reply: Uint8Array | null | undefined;
      try {
        reply = await this.#handler(datagram, from);
      } catch (error) {
        this.#stats.handlerErrors++;
        this.#log.error(`handler failed on a datagram from ${from.hostname}: ${error}`);
        continue;
      }
      if (!reply) continue;
      try {
        // Awaited before the next receive: the reply may be a view into the receive buffer.
        await this.#socket.send(reply, from);
        this.#stats.replied++;
      } catch (error) {
        if (this.#closing) break;
        this.#stats.sendErrors++;
        this.#warnOnce(
          `send:${(error as Error).name}`,
          `cannot reply to ${from.hostname}:${from.port}: ${(error as Error).message}` +
            " (further send errors are only counted)",
        );
      }
    }
    try {
      this.#socket.close();
    } catch { /* already closed */ }
  }

  #drop(reason: DropReason, from: Deno.NetAddr, why: string): void {
    if (reason === "oversize") this.#stats.oversize++;
    else this.#stats.rateLimited++;
    // One line per reason, not per datagram: a flood must not become a log flood.
    this.#warnOnce(
      reason,
      `dropping datagrams: ${from.hostname} is ${why} (further drops are only counted)`,
    );
    this.#onDrop?.(reason, from);
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn(message);
  }
}

/**
 * Starts a UDP server that runs `handler` for each datagram and sends back
 * what it returns.
 *
 * Every datagram is checked before the handler sees it: longer than
 * `maxDatagram`, or over its source's rate, it is dropped and counted
 * (never queued: UDP has no backpressure, so a queue would only grow).
 * Errors from one datagram (a handler that throws, a reply the OS refuses)
 * are counted and logged once; the server keeps serving.
 *
 * @param handler Called for each datagram within the limits.
 * @param options Address, limits and shutdown.
 * @returns The running server.
 * @throws {RangeError} If a limit is out of range.
 * @throws {TypeError} If the runtime was started without `--unstable-net`.
 * @throws {Error} If the address cannot be bound; the message gives advice.
 *
 * @example A UDP echo server
 * ```ts ignore
 * import { serveUdp } from "./serve_udp.ts";
 *
 * const server = serveUdp((datagram) => datagram, { port: 7001, handleSignals: true });
 * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
 * await server.finished;
 * console.log(server.stats);
 * ```
 */
export function serveUdp(handler: DatagramHandler, options: ServeUdpOptions = {}): UdpServer {
  return new UdpServer(handler, options);
}
