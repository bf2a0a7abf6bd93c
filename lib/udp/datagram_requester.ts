/**
 * Request/response over UDP: send a datagram, wait for the reply that
 * matches it, resend after a timeout, give up after a number of tries.
 *
 * UDP is connectionless: a datagram or its reply can be lost, duplicated or
 * reordered, and anyone can send to our port. The textbook client calls
 * `receive()` once and blocks forever when the datagram is lost; worse, it
 * takes whatever arrives next as the answer. Here every reply is matched to
 * its request by an id carried in the datagram, so:
 *
 * - a reply that arrives after a resend still completes the request (once);
 * - a second copy of a reply is counted as a duplicate and dropped;
 * - a reply that arrives after its request gave up is counted as late;
 * - datagrams from another address, or without a known id, are counted as
 *   stray and dropped.
 *
 * Bad:
 *
 * ```ts ignore
 * await socket.send(request, server);
 * const [reply] = await socket.receive(); // waits forever if either datagram is lost
 * ```
 *
 * Good:
 *
 * ```ts ignore
 * const reply = await requester.request(seq, request, { timeout: 1000, retries: 2 });
 * ```
 *
 * @module
 */

import { decodeEchoProbe } from "./echo_probe.ts";
import { listenUdp } from "./listen_udp.ts";
import { defaultLocalHostname, normaliseIpLiteral } from "./_local_hostname.ts";
import { DatagramTimeoutError } from "./datagram_timeout_error.ts";

// Moved to its own module; re-exported for the importers of this one.
export { DatagramTimeoutError } from "./datagram_timeout_error.ts";

/** Where requests go. */
export interface DatagramTarget {
  /** The server's address: an IPv4 or IPv6 literal, or a host name. */
  hostname: string;
  /** The server's port. */
  port: number;
}

/** Why a received datagram completed no request. */
export type UnmatchedKind = "duplicate" | "late" | "stray";

/** Options for {@linkcode DatagramRequester}. */
export interface DatagramRequesterOptions {
  /**
   * The local address to bind. The default keeps traffic to a loopback
   * server on loopback (so `--allow-net=127.0.0.1` is enough): `127.0.0.1`
   * for `127.x.x.x` and `localhost` targets, `::1` for `::1`, otherwise the
   * wildcard of the target's family (`0.0.0.0` or `::`).
   *
   * @default {chosen from the target}
   */
  localHostname?: string;
  /**
   * Finds the request a datagram answers. Returns the request's id, or
   * `undefined` when the datagram answers nothing (it is counted as stray).
   *
   * @default {the sequence number of an echo probe (see echo_probe.ts)}
   */
  match?: (datagram: Uint8Array, from: Deno.NetAddr) => number | undefined;
  /**
   * How long to wait for a reply before resending, per try, in ms.
   *
   * @default {1000}
   */
  timeout?: number;
  /**
   * How many times to resend when no reply came (0 = one try only).
   *
   * @default {2}
   */
  retries?: number;
  /**
   * The largest datagram received whole, in bytes; longer ones are cut to
   * this size by the OS. 65535 holds any UDP payload over IPv4 or IPv6.
   *
   * @default {65535}
   */
  maxDatagram?: number;
  /**
   * How many finished request ids are remembered, to tell a duplicate or
   * late reply from a stray datagram. Memory stays bounded; older ids count
   * as stray.
   *
   * @default {65536}
   */
  rememberFinished?: number;
  /**
   * Called for every datagram that completes no request, for example to
   * print `(DUP!)` like `ping`.
   *
   * @default {undefined}
   */
  onUnmatched?: (
    kind: UnmatchedKind,
    datagram: Uint8Array,
    from: Deno.NetAddr,
    id: number | undefined,
  ) => void;
}

/** Per-request options for {@linkcode DatagramRequester.request}. */
export interface DatagramRequestOptions {
  /**
   * How long to wait for a reply per try, in ms.
   *
   * @default {the requester's timeout}
   */
  timeout?: number;
  /**
   * How many times to resend.
   *
   * @default {the requester's retries}
   */
  retries?: number;
  /** Abandons the request when aborted; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A reply, as {@linkcode DatagramRequester.request} resolves it. */
export interface DatagramReply {
  /** The request's id. */
  id: number;
  /** The reply's bytes (a copy the caller owns). */
  data: Uint8Array;
  /** Who sent it. */
  from: Deno.NetAddr;
  /** How many times the request was sent before this reply came (1 = no resend). */
  attempts: number;
  /** Time from the first send to the reply, in ms. */
  elapsed: number;
  /** When the reply arrived, on the `performance.now()` clock. */
  receivedAt: number;
}

/** Counters kept by a {@linkcode DatagramRequester}. */
export interface DatagramRequesterStats {
  /** Requests started. */
  requests: number;
  /** Datagrams sent, resends included. */
  sent: number;
  /** Resends after a timeout. */
  retransmits: number;
  /** Requests completed by a reply. */
  replies: number;
  /** Requests that got no reply after every try. */
  timeouts: number;
  /** Extra copies of a reply to a request already completed. */
  duplicates: number;
  /** Replies to requests that had already given up. */
  late: number;
  /** Datagrams from another address or with an unknown id. */
  stray: number;
}

interface Pending {
  bytes: Uint8Array;
  attempts: number;
  triesLeft: number;
  timeout: number;
  firstSentAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve: (reply: DatagramReply) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The default `match`: the sequence number of an echo probe. */
function matchEchoProbe(datagram: Uint8Array): number | undefined {
  return decodeEchoProbe(datagram)?.seq;
}

/**
 * Sends requests as datagrams and matches replies to them by id, with a
 * timeout and resends per request. Many requests may be in flight at once;
 * one receive loop serves them all.
 *
 * Close it with `await requester.close()` (or `await using`): pending
 * requests then reject.
 *
 * @example Ask an echo server, resending up to twice
 * ```ts ignore
 * import { DatagramRequester } from "./datagram_requester.ts";
 * import { encodeEchoProbe } from "./echo_probe.ts";
 *
 * await using requester = new DatagramRequester({ hostname: "127.0.0.1", port: 7001 });
 * const reply = await requester.request(1, encodeEchoProbe(1), { timeout: 500, retries: 2 });
 * console.log(`${reply.data.length} bytes in ${reply.elapsed.toFixed(3)} ms`);
 * ```
 */
export class DatagramRequester implements AsyncDisposable {
  /** The server requests go to. */
  readonly target: DatagramTarget;
  /** The local address replies come to. */
  readonly localAddr: Deno.NetAddr;

  #socket: Deno.DatagramConn;
  #to: Deno.NetAddr;
  #expectedFrom: string | undefined;
  #match: (datagram: Uint8Array, from: Deno.NetAddr) => number | undefined;
  #timeout: number;
  #retries: number;
  #buffer: Uint8Array;
  #rememberFinished: number;
  #onUnmatched: DatagramRequesterOptions["onUnmatched"];
  #pending = new Map<number, Pending>();
  /** Finished ids → whether they were answered (true) or gave up (false). */
  #finished = new Map<number, boolean>();
  #closed = false;
  #receiveLoop: Promise<void>;
  /** The last send; each send waits for it (see #send). */
  #lastSend: Promise<unknown> = Promise.resolve();
  #stats: DatagramRequesterStats = {
    requests: 0,
    sent: 0,
    retransmits: 0,
    replies: 0,
    timeouts: 0,
    duplicates: 0,
    late: 0,
    stray: 0,
  };

  /**
   * Binds a local socket and starts receiving.
   *
   * @param target The server.
   * @param options Matching, timeouts, limits.
   * @throws {RangeError} If `timeout`, `retries`, `maxDatagram` or
   *   `rememberFinished` is out of range.
   * @throws {TypeError} If the runtime was started without `--unstable-net`.
   * @throws {Error} If the local address cannot be bound (the message names
   *   the `--allow-net` flag when permission is missing).
   */
  constructor(target: DatagramTarget, options: DatagramRequesterOptions = {}) {
    this.target = { hostname: target.hostname, port: target.port };
    this.#timeout = options.timeout ?? 1000;
    this.#retries = options.retries ?? 2;
    checkTimeoutAndRetries(this.#timeout, this.#retries);
    const maxDatagram = options.maxDatagram ?? 65_535;
    if (!Number.isInteger(maxDatagram) || maxDatagram < 1 || maxDatagram > 65_535) {
      throw new RangeError(
        `Cannot create DatagramRequester: maxDatagram ${maxDatagram} is not from 1 to 65535`,
      );
    }
    this.#rememberFinished = options.rememberFinished ?? 65_536;
    if (!Number.isInteger(this.#rememberFinished) || this.#rememberFinished < 0) {
      throw new RangeError(
        `Cannot create DatagramRequester: rememberFinished ${this.#rememberFinished} is not a non-negative integer`,
      );
    }
    this.#buffer = new Uint8Array(maxDatagram);
    this.#match = options.match ?? matchEchoProbe;
    this.#onUnmatched = options.onUnmatched;
    this.#expectedFrom = normaliseIpLiteral(target.hostname);
    this.#to = {
      transport: "udp",
      hostname: this.#expectedFrom ?? target.hostname,
      port: target.port,
    };
    this.#socket = listenUdp(options.localHostname ?? defaultLocalHostname(target.hostname), 0);
    this.localAddr = this.#socket.addr as Deno.NetAddr;
    this.#receiveLoop = this.#receive();
  }

  /** A snapshot of the counters. */
  get stats(): DatagramRequesterStats {
    return { ...this.#stats };
  }

  /** How many requests are waiting for a reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Sends `bytes` and resolves with the first reply whose id is `id`,
   * resending after each timeout until the tries run out.
   *
   * @param id The id the reply will carry (what `match` returns for it).
   * @param bytes The datagram; resends send the same bytes.
   * @param options Timeout, retries and an abort signal for this request.
   * @returns The reply.
   * @throws {DatagramTimeoutError} If no reply came after every try.
   * @throws {RangeError} If `id` is already waiting for a reply.
   * @throws {Error} If sending fails (for example `Message too long` over
   *   the UDP maximum) or the requester is closed.
   */
  request(
    id: number,
    bytes: Uint8Array,
    options: DatagramRequestOptions = {},
  ): Promise<DatagramReply> {
    if (this.#closed) return Promise.reject(new Error("Cannot send request: requester is closed"));
    if (this.#pending.has(id)) {
      return Promise.reject(
        new RangeError(`Cannot send request: id ${id} is already waiting for a reply`),
      );
    }
    const timeout = options.timeout ?? this.#timeout;
    const retries = options.retries ?? this.#retries;
    try {
      checkTimeoutAndRetries(timeout, retries);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);

    const { promise, resolve, reject } = Promise.withResolvers<DatagramReply>();
    const pending: Pending = {
      bytes,
      attempts: 0,
      triesLeft: retries + 1,
      timeout,
      firstSentAt: performance.now(),
      timer: undefined,
      resolve,
      reject,
      signal: options.signal,
      onAbort: undefined,
    };
    // A reply may already be in flight when an old id is reused.
    this.#finished.delete(id);
    this.#pending.set(id, pending);
    this.#stats.requests++;
    if (options.signal) {
      pending.onAbort = () => this.#fail(id, pending, options.signal!.reason, undefined);
      options.signal.addEventListener("abort", pending.onAbort, { once: true });
    }
    this.#send(id, pending);
    return promise;
  }

  /**
   * Stops receiving and closes the socket; pending requests reject.
   *
   * @returns When the receive loop has ended.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#socket.close();
      } catch { /* already closed */ }
      const error = new Error("Cannot wait for reply: requester is closed");
      for (const [id, pending] of this.#pending) this.#fail(id, pending, error, undefined);
    }
    await Promise.all([this.#receiveLoop, this.#lastSend]);
  }

  /** Closes the requester; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #send(id: number, pending: Pending): void {
    pending.attempts++;
    pending.triesLeft--;
    this.#stats.sent++;
    if (pending.attempts > 1) this.#stats.retransmits++;
    pending.timer = setTimeout(() => this.#onTimeout(id, pending), pending.timeout);
    // The runtime's send() is asynchronous and two sends started together can
    // leave in either order; chaining them keeps datagrams in request order,
    // so any reordering a caller sees happened on the network.
    this.#lastSend = this.#lastSend
      .then(() => this.#closed ? 0 : this.#socket.send(pending.bytes, this.#to))
      .catch((error) => {
        if (this.#pending.get(id) === pending) this.#fail(id, pending, error, undefined);
      });
  }

  #onTimeout(id: number, pending: Pending): void {
    if (this.#pending.get(id) !== pending) return;
    if (pending.triesLeft > 0) {
      this.#send(id, pending);
      return;
    }
    this.#stats.timeouts++;
    this.#fail(
      id,
      pending,
      new DatagramTimeoutError(this.target, pending.attempts, pending.timeout),
      false,
    );
  }

  /** Ends a pending request with an error; `remember` records it as finished. */
  #fail(id: number, pending: Pending, error: unknown, remember: boolean | undefined): void {
    this.#forget(id, pending, remember);
    pending.reject(error);
  }

  #forget(id: number, pending: Pending, remember: boolean | undefined): void {
    clearTimeout(pending.timer);
    if (pending.onAbort) pending.signal?.removeEventListener("abort", pending.onAbort);
    this.#pending.delete(id);
    if (remember !== undefined && this.#rememberFinished > 0) {
      this.#finished.set(id, remember);
      // Maps iterate in insertion order: the first key is the oldest.
      if (this.#finished.size > this.#rememberFinished) {
        this.#finished.delete(this.#finished.keys().next().value!);
      }
    }
  }

  async #receive(): Promise<void> {
    while (!this.#closed) {
      let datagram: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [data, addr] = await this.#socket.receive(this.#buffer);
        datagram = data;
        from = addr as Deno.NetAddr;
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        // Some systems report an ICMP error for an earlier send here; it
        // concerns one datagram, so keep receiving.
        continue;
      }
      this.#dispatch(datagram, from);
    }
  }

  #dispatch(datagram: Uint8Array, from: Deno.NetAddr): void {
    const fromTarget = this.#expectedFrom === undefined ||
      (from.hostname === this.#expectedFrom && from.port === this.target.port);
    const id = fromTarget ? this.#match(datagram, from) : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (id !== undefined && pending) {
      const receivedAt = performance.now();
      this.#stats.replies++;
      this.#forget(id, pending, true);
      pending.resolve({
        id,
        // The receive buffer is reused for the next datagram.
        data: datagram.slice(),
        from,
        attempts: pending.attempts,
        elapsed: receivedAt - pending.firstSentAt,
        receivedAt,
      });
      return;
    }
    const answered = id === undefined ? undefined : this.#finished.get(id);
    const kind: UnmatchedKind = answered === true
      ? "duplicate"
      : answered === false
      ? "late"
      : "stray";
    this.#stats[kind === "duplicate" ? "duplicates" : kind]++;
    this.#onUnmatched?.(kind, datagram, from, id);
  }
}

function checkTimeoutAndRetries(timeout: number, retries: number): void {
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new RangeError(`Cannot send request: timeout ${timeout} is not a positive number of ms`);
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`Cannot send request: retries ${retries} is not a non-negative integer`);
  }
}
