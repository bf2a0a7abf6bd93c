/**
 * A TCP (or TLS) server with the limits a public server needs: a maximum
 * number of connections, an idle timeout, an accept loop that survives
 * errors, and graceful shutdown.
 *
 * @module
 */

import { Logger } from "../cli/log.ts";
import { onShutdownSignal } from "../net/shutdown_signals.ts";
import { formatAddr } from "../net/net_addr.ts";
import { isDisconnectError, ListenError } from "../net/net_errors.ts";

/** TLS certificate chain and private key, both PEM text. */
export interface TlsCertifiedKey {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}

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
   * sent `busyMessage` and closed; connections already open are unaffected.
   *
   * The runtime cannot read the open-file limit (`ulimit -n`) without
   * `--allow-all`, so the server learns it: the first time `accept()` fails
   * for lack of file descriptors, the limit is lowered to the connections
   * then open minus a reserve of 32, so that later clients can still be
   * accepted and told the server is busy instead of waiting in the queue.
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
   * Shut down on SIGINT (Ctrl+C) and SIGTERM. A second SIGINT exits at once
   * with code 130.
   *
   * @default {false}
   */
  handleSignals?: boolean;
  /**
   * Sent to clients refused because the server is full.
   *
   * @default {"error: server busy (too many connections), try again later\r\n"}
   */
  busyMessage?: string | Uint8Array;
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
   * @default {new Logger()}
   */
  logger?: Logger;
}

/** What a connection handler gets besides the connection itself. */
export interface ConnectionContext {
  /** A number unique to this connection within the server, for logs. */
  readonly id: number;
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** Aborted when the server begins shutting down: finish up and return. */
  readonly signal: AbortSignal;
  /** Marks the connection active now, postponing the idle timeout. */
  touch(): void;
}

/** Handles one connection; the server closes it after the returned promise settles. */
export type ConnectionHandler = (
  conn: Deno.Conn,
  ctx: ConnectionContext,
) => void | Promise<void>;

/** Default {@linkcode ServeTcpOptions.maxConnections}, like Redis's `maxclients`. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
const ACCEPT_BACKOFF_MIN_MS = 100;
/** Descriptors kept spare once the open-file limit was hit, to answer refused clients. */
const FD_RESERVE = 32;
const ACCEPT_BACKOFF_MAX_MS = 1_000;
const DEFAULT_BUSY = "error: server busy (too many connections), try again later\r\n";

/** Errors from `accept()` that concern one client only: retry at once. */
function isClientAcceptError(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

class Connection implements ConnectionContext {
  readonly id: number;
  readonly conn: Deno.Conn;
  readonly remoteAddr: Deno.NetAddr;
  readonly signal: AbortSignal;
  lastActive = Date.now();
  /** Settles when the handler has finished and the connection is closed. */
  done: Promise<void> = Promise.resolve();

  constructor(id: number, conn: Deno.Conn, signal: AbortSignal) {
    this.id = id;
    this.conn = conn;
    this.remoteAddr = conn.remoteAddr as Deno.NetAddr;
    this.signal = signal;
  }

  touch(): void {
    this.lastActive = Date.now();
  }
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
  #log: Logger;
  #maxConnections: number;
  #idleTimeout: number;
  #gracePeriod: number;
  #busyMessage: Uint8Array;
  #noDelay: boolean;
  #connections = new Set<Connection>();
  #nextId = 1;
  #shutdown = new AbortController();
  #shutdownPromise: Promise<void> | null = null;
  #wakeAcceptLoop: (() => void) | null = null;
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
    const busy = options.busyMessage ?? DEFAULT_BUSY;
    this.#busyMessage = typeof busy === "string" ? new TextEncoder().encode(busy) : busy;
    this.#handler = handler;
    this.#noDelay = options.noDelay ?? false;
    this.#log = options.logger ?? new Logger();

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
        // EMFILE and friends: accepting again at once would spin; back off
        // like nginx, and keep serving the connections we already have.
        backoff = Math.min(Math.max(backoff * 2, ACCEPT_BACKOFF_MIN_MS), ACCEPT_BACKOFF_MAX_MS);
        let hint = "";
        if (/too many open files/i.test(errorText(error))) {
          hint = ` (${this.#connections.size} connections open: raise \`ulimit -n\`)`;
          const learned = Math.max(1, this.#connections.size - FD_RESERVE);
          if (learned < this.#maxConnections) {
            this.#maxConnections = learned;
            hint +=
              `; maxConnections lowered to ${learned} to keep ${FD_RESERVE} descriptors spare`;
          }
        }
        this.#log.warn(`accept failed: ${errorText(error)}${hint}; retrying in ${backoff} ms`);
        await this.#pause(backoff);
        continue;
      }
      if (this.#connections.size >= this.#maxConnections) {
        this.#refuse(conn);
      } else {
        this.#serve(conn);
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeAcceptLoop = done;
    });
  }

  #refuse(conn: Deno.Conn): void {
    this.#log.warn(
      `refused ${
        formatAddr(conn.remoteAddr)
      }: ${this.#connections.size} connections (maxConnections)`,
    );
    // A fresh socket's send buffer is empty, so this small write completes at
    // once; closing after it sends the message and a FIN.
    conn.write(this.#busyMessage)
      .catch(() => {})
      .finally(() => closeQuietly(conn));
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
    closeQuietly(connection.conn);
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
    this.#wakeAcceptLoop?.();
    await this.#acceptLoop;

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
 * client (it reset before being accepted) are retried at once, others (out of
 * file descriptors) after a pause of 100 ms doubling to 1 s. A bare
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

/**
 * Closes a connection or listener, ignoring the error when it is already
 * closed (or any other error from `close()`: there is nothing left to do).
 *
 * @param closer Anything with `close()`.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./serve_tcp.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closeQuietly(listener);
 * closeQuietly(listener); // no error the second time
 * ```
 */
export function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
