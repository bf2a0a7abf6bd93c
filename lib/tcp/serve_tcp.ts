/**
 * A TCP (or TLS) server with the limits a public server needs: a maximum
 * number of connections, an idle timeout, an accept loop that survives
 * errors, and graceful shutdown.
 *
 * @module
 */

import { closeQuietly } from "../io/close_quietly.ts";
import { type ServerLogger, STDERR_LOGGER } from "../net/logger.ts";
import { onShutdownSignal } from "../net/shutdown_signals.ts";
import { formatAddr } from "../net/net_addr.ts";
import { isDisconnectError, ListenError } from "../net/net_errors.ts";
import {
  connectionLimit,
  EMFILE_PAUSE_MS,
  FD_CEILING_MEMORY_MS,
  isOutOfDescriptors,
  learnDescriptorCeiling,
  type LimitReason,
  processSockets,
} from "./_descriptor_ceiling.ts";
import { errorText } from "./_error_text.ts";
import { AcceptPause } from "./_accept_pause.ts";
import { Connection } from "./_connection.ts";
import {
  busyMessageRefusal,
  DEFAULT_REFUSAL_TIMEOUT_MS,
  MAX_PENDING_REFUSALS,
  refuseConnection,
} from "./_refuse_connection.ts";
import type { ConnectionHandler } from "./connection_handler.ts";
import type { RefusalHandler } from "./refusal_handler.ts";
import type { TlsCertifiedKey } from "./tls_certified_key.ts";

// Public constants of the server, kept with the descriptor accounting they tune.
export { EMFILE_PAUSE_MS, FD_CEILING_MEMORY_MS } from "./_descriptor_ceiling.ts";
// Moved to their own modules; re-exported for the modules and scripts that import them from here.
export type { TlsCertifiedKey } from "./tls_certified_key.ts";
export type { ConnectionContext, ConnectionHandler } from "./connection_handler.ts";

/** Options for {@linkcode serveTcp}. */
export interface ServeTcpOptions {
  /**
   * The address to bind. Loopback by default: exposing a server to the
   * network is an explicit choice (`"0.0.0.0"` or `"::"`).
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port to bind; `0` picks a free one (read it back from `server.addr`).
   *
   * @default {0}
   */
  port?: number;
  /** Serve TLS with this certificate and key instead of plain TCP. */
  tls?: TlsCertifiedKey;
  /**
   * The most connections served at once. Clients over the limit are accepted,
   * refused (see `refuse`) and closed; connections already open are unaffected.
   *
   * The runtime cannot read the open-file limit (`ulimit -n`) without
   * `--allow-all`, so the server learns it, for a while. When `accept()`
   * fails for lack of file descriptors, the server counts the sockets that
   * all servers in the process hold (served connections plus refusals still
   * being sent; descriptors are per process): that is the ceiling. It pauses
   * accepting for 500 ms (as nginx does), or less if a connection ends
   * meanwhile, and until the ceiling is forgotten (30 s after the last such
   * failure) the servers together serve at most the ceiling minus a small
   * reserve (an eighth, at most 32), so that later clients can still be
   * accepted and told the server is busy instead of waiting in the queue.
   * A later failure can raise the remembered ceiling, never lower it (so it
   * cannot ratchet down), and once it is forgotten the server serves
   * `maxConnections` again.
   *
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * Close a connection after this many milliseconds without activity
   * (handlers report activity with `ctx.touch()`); `0` disables it.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * On shutdown, how long handlers get to finish on their own (they see
   * `ctx.signal` aborted) before the remaining connections are closed, in ms.
   *
   * @default {5000}
   */
  gracePeriod?: number;
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
   * Sent to clients refused because the server is full, by the default `refuse`.
   *
   * @default {"error: server busy (too many connections), try again later\r\n"}
   */
  busyMessage?: string | Uint8Array;
  /**
   * Tells a client over the limit that the server is full, in the client's
   * own protocol: an HTTP server answers `503 Service Unavailable`
   * (`refuseWithServiceUnavailable` in `lib/http/service_unavailable.ts`), a
   * framed protocol sends its busy frame. The server closes the connection
   * once the returned promise settles or `refusalTimeout` has passed,
   * whichever comes first (then `ctx.signal` aborts). Errors are ignored: a
   * refused client that left is no news. At most 64 refusals run at once; a
   * 65th client waits in the listen queue until one ends.
   *
   * @default {(conn, ctx) => writeAndLinger(conn, busyMessage, { signal: ctx.signal })}
   */
  refuse?: RefusalHandler;
  /**
   * How long a refusal may take, in ms, before the server closes the connection.
   *
   * @default {2000}
   */
  refusalTimeout?: number;
  /**
   * Turn off Nagle's algorithm on each connection, so small replies go out at
   * once instead of waiting for the previous segment's acknowledgement. Good
   * for request/response protocols that write a reply in several pieces
   * (WebSocket frames, chat lines); a byte stream such as the echo does
   * better with Nagle on: with many small messages in flight, coalescing
   * them measured 10-30% more messages/s.
   *
   * @default {false}
   */
  noDelay?: boolean;
  /**
   * Let several processes bind the same port (Linux load balancing); needs `--unstable-net`.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Where accept errors, refusals and idle closes are logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** Default {@linkcode ServeTcpOptions.maxConnections}, like Redis's `maxclients`. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
const ACCEPT_BACKOFF_MIN_MS = 100;
const ACCEPT_BACKOFF_MAX_MS = 1_000;
/** Errors from `accept()` that concern one client only: retry at once. */
function isClientAcceptError(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

/**
 * A running server, returned by {@linkcode serveTcp}.
 *
 * @example Shut down with `await using`
 * ```ts ignore
 * import { serveTcp } from "./serve_tcp.ts";
 *
 * await using server = serveTcp((conn) => conn.write(new TextEncoder().encode("hi\n")));
 * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
 * ```
 */
export class TcpServer implements AsyncDisposable {
  /** The bound address; with `port: 0` this holds the port that was picked. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has shut down and every connection is closed. */
  readonly finished: Promise<void>;

  #listener: Deno.Listener;
  #handler: ConnectionHandler;
  #log: ServerLogger;
  #maxConnections: number;
  #idleTimeout: number;
  #gracePeriod: number;
  #refuseHandler: RefusalHandler;
  #refusalTimeout: number;
  #noDelay: boolean;
  #connections = new Set<Connection>();
  /** Refusals being sent: each holds a descriptor until it ends. */
  #refusals = new Set<Promise<void>>();
  #nextId = 1;
  #shutdown = new AbortController();
  #shutdownPromise: Promise<void> | null = null;
  #pause = new AcceptPause();
  #acceptLoop: Promise<void>;
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  #removeSignalListeners: (() => void) | null = null;
  #finish: () => void;
  #onAbort: (() => void) | null = null;
  #externalSignal: AbortSignal | undefined;

  /**
   * Binds and starts accepting. Use {@linkcode serveTcp} rather than this constructor.
   *
   * @param handler Called for each connection.
   * @param options Address, TLS and limits.
   * @throws {ListenError} If the address cannot be bound; the message says why and what to do.
   */
  constructor(handler: ConnectionHandler, options: ServeTcpOptions = {}) {
    const hostname = options.hostname ?? "127.0.0.1";
    const port = options.port ?? 0;
    this.#maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#idleTimeout = options.idleTimeout ?? 0;
    this.#gracePeriod = options.gracePeriod ?? 5_000;
    if (!Number.isInteger(this.#maxConnections) || this.#maxConnections < 1) {
      throw new RangeError(
        `Cannot serve: maxConnections ${this.#maxConnections} is not a positive integer`,
      );
    }
    this.#refusalTimeout = options.refusalTimeout ?? DEFAULT_REFUSAL_TIMEOUT_MS;
    if (!(this.#refusalTimeout >= 0)) {
      throw new RangeError(`Cannot serve: refusalTimeout ${this.#refusalTimeout} is negative`);
    }
    this.#refuseHandler = options.refuse ?? busyMessageRefusal(options.busyMessage);
    this.#handler = handler;
    this.#noDelay = options.noDelay ?? false;
    this.#log = options.logger ?? STDERR_LOGGER;

    try {
      this.#listener = options.tls
        ? Deno.listenTls({
          hostname,
          port,
          cert: options.tls.cert,
          key: options.tls.key,
          reusePort: options.reusePort ?? false,
        })
        : Deno.listen({ hostname, port, reusePort: options.reusePort ?? false });
    } catch (error) {
      throw new ListenError(error, hostname, port);
    }
    this.addr = this.#listener.addr as Deno.NetAddr;

    if (this.#idleTimeout > 0) {
      // One sweep for all connections is far cheaper than a timer per read.
      const every = Math.max(10, Math.min(1_000, this.#idleTimeout / 4));
      this.#idleTimer = setInterval(() => this.#closeIdle(), every);
    }
    if (options.handleSignals) {
      this.#removeSignalListeners = onShutdownSignal(() => void this.shutdown(), {
        logger: this.#log,
      });
    }
    if (options.signal) {
      this.#externalSignal = options.signal;
      this.#onAbort = () => void this.shutdown();
      if (options.signal.aborted) queueMicrotask(this.#onAbort);
      else options.signal.addEventListener("abort", this.#onAbort, { once: true });
    }

    const { promise, resolve } = Promise.withResolvers<void>();
    this.finished = promise;
    this.#finish = resolve;
    this.#acceptLoop = this.#accept();
  }

  /** How many connections are being served now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * The most connections served at once now: `maxConnections`, or fewer for
   * {@linkcode FD_CEILING_MEMORY_MS} after `accept()` ran out of descriptors.
   */
  get connectionLimit(): number {
    return connectionLimit(this.#maxConnections, this.#connections.size, this.#log).limit;
  }

  /** How many refusals are being sent now (each holds a descriptor). */
  get refusalCount(): number {
    return this.#refusals.size;
  }

  /** True once shutdown has begun. */
  get closing(): boolean {
    return this.#shutdown.signal.aborted;
  }

  /**
   * Stops accepting, aborts every handler's `ctx.signal`, waits up to
   * `gracePeriod` for handlers to finish, then closes what is left.
   *
   * @returns When every connection is closed (the same promise on every call).
   */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#doShutdown();
    return this.#shutdownPromise;
  }

  /** Shuts the server down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #accept(): Promise<void> {
    let backoff = 0;
    while (!this.closing) {
      if (this.#refusals.size >= MAX_PENDING_REFUSALS) {
        // Each refusal holds a descriptor: let the queue wait rather than pile
        // them up. The first refusal to end wakes the loop.
        await this.#pause.pause(ACCEPT_BACKOFF_MAX_MS, true);
        continue;
      }
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
        backoff = 0;
      } catch (error) {
        if (this.closing || error instanceof Deno.errors.BadResource) break;
        if (isClientAcceptError(error)) {
          this.#log.debug(`accept: a client left before it was accepted (${errorText(error)})`);
          continue;
        }
        if (isOutOfDescriptors(error)) {
          const open = learnDescriptorCeiling(this.#log);
          this.#log.warn(
            `accept failed: ${errorText(error)} (${open} sockets open, ` +
              `${this.#connections.size} served: raise \`ulimit -n\`); serving at most ` +
              `${this.connectionLimit} for the next ${FD_CEILING_MEMORY_MS / 1000} s; ` +
              `pausing accepts for ${EMFILE_PAUSE_MS} ms`,
          );
          await this.#pause.pause(EMFILE_PAUSE_MS, true);
          continue;
        }
        // Other errors: accepting again at once could spin; back off and keep
        // serving the connections we already have.
        backoff = Math.min(Math.max(backoff * 2, ACCEPT_BACKOFF_MIN_MS), ACCEPT_BACKOFF_MAX_MS);
        this.#log.warn(`accept failed: ${errorText(error)}; retrying in ${backoff} ms`);
        await this.#pause.pause(backoff);
        continue;
      }
      const { limit, reason } = connectionLimit(
        this.#maxConnections,
        this.#connections.size,
        this.#log,
      );
      if (this.#connections.size >= limit) {
        this.#refuse(conn, limit, reason);
      } else {
        this.#serve(conn);
      }
    }
  }

  #refuse(conn: Deno.Conn, limit: number, reason: LimitReason): void {
    const done: Promise<void> = refuseConnection(conn, {
      handler: this.#refuseHandler,
      connectionCount: this.#connections.size,
      limit,
      reason,
      timeout: this.#refusalTimeout,
      shutdownSignal: this.#shutdown.signal,
      logger: this.#log,
      onClosed: () => {
        this.#refusals.delete(done);
        this.#pause.released();
      },
    });
    this.#refusals.add(done);
  }

  #serve(conn: Deno.Conn): void {
    if (this.#noDelay && "setNoDelay" in conn) {
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // The client already left; the handler's first read will say so.
      }
    }
    const connection = new Connection(this.#nextId++, conn, this.#shutdown.signal);
    this.#connections.add(connection);
    processSockets.served++;
    let result;
    try {
      result = this.#handler(conn, connection);
    } catch (error) {
      result = Promise.reject(error);
    }
    // One `then` per connection rather than an async wrapper: idle connections
    // are kept in memory by what is attached to them, so attach little.
    connection.done = Promise.resolve(result).then(
      () => this.#release(connection),
      (error) => this.#release(connection, error),
    );
  }

  #release(connection: Connection, error?: unknown): void {
    this.#connections.delete(connection);
    processSockets.served--;
    closeQuietly(connection.conn);
    this.#pause.released();
    if (error === undefined) return;
    const who = `#${connection.id} ${formatAddr(connection.remoteAddr)}`;
    if (isDisconnectError(error)) this.#log.debug(`${who}: ${errorText(error)}`);
    else this.#log.error(`${who}: handler failed: ${errorText(error)}`);
  }

  #closeIdle(): void {
    const now = Date.now();
    for (const connection of this.#connections) {
      if (now - connection.lastActive >= this.#idleTimeout) {
        this.#log.info(
          `#${connection.id} ${
            formatAddr(connection.remoteAddr)
          }: closed after ${this.#idleTimeout} ms idle`,
        );
        // The handler's pending read fails, and its finally block ends the connection.
        closeQuietly(connection.conn);
        connection.lastActive = Infinity;
      }
    }
  }

  async #doShutdown(): Promise<void> {
    this.#shutdown.abort();
    closeQuietly(this.#listener);
    this.#pause.wake();
    await this.#acceptLoop;
    // Refusals see their signal aborted and are closed at once.
    await Promise.all([...this.#refusals]);

    if (this.#connections.size > 0) {
      const allDone = () => Promise.all([...this.#connections].map((c) => c.done));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, this.#gracePeriod));
      await Promise.race([allDone(), grace]);
      clearTimeout(timer);
      for (const connection of this.#connections) closeQuietly(connection.conn);
      await allDone();
    }

    clearInterval(this.#idleTimer);
    this.#removeSignalListeners?.();
    if (this.#onAbort) this.#externalSignal?.removeEventListener("abort", this.#onAbort);
    this.#finish();
  }
}

/**
 * Starts a TCP (or TLS) server that runs `handler` for each connection.
 *
 * The accept loop keeps going when `accept()` fails: errors that concern one
 * client (it reset before being accepted) are retried at once; running out of
 * file descriptors pauses accepting for 500 ms (less if a connection ends
 * meanwhile) and lowers the limit for a while, as `maxConnections` describes;
 * other errors are retried after a pause of 100 ms doubling to 1 s. A bare
 * `for await (const conn of listener)` would end on the first such error and
 * the server would silently stop accepting.
 *
 * @param handler Called for each connection; when it returns or throws, the
 *   connection is closed. Disconnect errors are logged at debug level.
 * @param options Address, TLS and limits.
 * @returns The running server.
 * @throws {ListenError} If the address cannot be bound; the message gives advice.
 *
 * @example An upper-casing line server
 * ```ts ignore
 * import { serveTcp } from "./serve_tcp.ts";
 * import { ChunkReader } from "../io/chunk_reader.ts";
 * import { writeAll } from "../io/write_all.ts";
 *
 * const server = serveTcp(async (conn, ctx) => {
 *   const reader = new ChunkReader(conn);
 *   for (let chunk; (chunk = await reader.read()) !== null;) {
 *     ctx.touch();
 *     await writeAll(conn, new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase()));
 *   }
 * }, { port: 7000, idleTimeout: 60_000, handleSignals: true });
 * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
 * await server.finished;
 * ```
 */
export function serveTcp(handler: ConnectionHandler, options: ServeTcpOptions = {}): TcpServer {
  return new TcpServer(handler, options);
}
