/**
 * One server on several addresses: one listener per host (`--host 127.0.0.1
 * --host ::1` listens on both loopbacks), one shutdown, one set of counters
 * kept by the caller's handler.
 *
 * @module
 */

import { type ServerLogger, STDERR_LOGGER } from "./logger.ts";
import { stripBrackets } from "./net_addr.ts";
import { onShutdownSignal } from "./shutdown_signals.ts";

/** What {@linkcode serveHosts} needs of a server: `TcpServer` and `UdpServer` fit. */
export interface HostServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has shut down. */
  readonly finished: Promise<void>;
  /** Starts shutting down; resolves when done. */
  shutdown(): Promise<void>;
}

/** Options for {@linkcode serveHosts}. */
export interface ServeHostsOptions {
  /**
   * The port for every host. With `0`, the first host gets a free port and
   * the others are bound to that same port, so there is one port to remember.
   *
   * @default {0}
   */
  port?: number;
  /**
   * Shut every server down on SIGINT (Ctrl+C) or SIGTERM, with one "shutting
   * down" line (start the servers themselves without `handleSignals`).
   *
   * @default {false}
   */
  handleSignals?: boolean;
  /**
   * Where the signal is logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** Servers started by {@linkcode serveHosts}, one per host, run and stopped together. */
export class ServerGroup<S extends HostServer> implements AsyncDisposable {
  /** The servers, in the order of the hosts. */
  readonly servers: readonly S[];
  /** Resolves once every server has shut down. */
  readonly finished: Promise<void>;
  #removeSignalListeners: (() => void) | null = null;

  /**
   * Groups running servers. Use {@linkcode serveHosts} rather than this constructor.
   *
   * @param servers The running servers.
   * @param options Signal handling.
   */
  constructor(servers: readonly S[], options: ServeHostsOptions = {}) {
    this.servers = servers;
    if (options.handleSignals) {
      this.#removeSignalListeners = onShutdownSignal(() => void this.shutdown(), {
        logger: options.logger ?? STDERR_LOGGER,
      });
    }
    this.finished = Promise.all(servers.map((server) => server.finished)).then(() => {
      this.#removeSignalListeners?.();
    });
  }

  /** The bound addresses, in the order of the hosts. */
  get addrs(): Deno.NetAddr[] {
    return this.servers.map((server) => server.addr);
  }

  /**
   * Shuts every server down.
   *
   * @returns {@linkcode ServerGroup.finished}.
   */
  async shutdown(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.shutdown()));
    return this.finished;
  }

  /** Shuts the servers down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Starts one server per host with `start`, all on the same port. If one
 * cannot start, those already started are shut down and the error is thrown.
 * Repeated hosts are started once.
 *
 * @param hosts The addresses to bind, e.g. `["127.0.0.1", "::1"]` (brackets allowed).
 * @param start Starts one server on `hostname` and `port` (`serveTcp`, `serveUdp`, ...).
 * @param options The port, and signal handling for the whole group.
 * @returns The running servers.
 * @throws {RangeError} If `hosts` is empty.
 * @throws {Error} Whatever `start` throws for the first host that cannot be bound.
 *
 * @example Echo on both loopbacks
 * ```ts ignore
 * import { serveHosts } from "./serve_hosts.ts";
 * import { serveTcp } from "../tcp/serve_tcp.ts";
 *
 * const group = await serveHosts(
 *   ["127.0.0.1", "::1"],
 *   (hostname, port) => serveTcp((conn) => conn.readable.pipeTo(conn.writable), { hostname, port }),
 *   { port: 7000, handleSignals: true },
 * );
 * for (const addr of group.addrs) console.log(`listening on ${addr.hostname}:${addr.port}`);
 * await group.finished;
 * ```
 */
export async function serveHosts<S extends HostServer>(
  hosts: readonly string[],
  start: (hostname: string, port: number) => S,
  options: ServeHostsOptions = {},
): Promise<ServerGroup<S>> {
  const unique = [...new Set(hosts.map(stripBrackets))];
  if (unique.length === 0) throw new RangeError("Cannot serve: no host to listen on");
  let port = options.port ?? 0;
  const servers: S[] = [];
  try {
    for (const hostname of unique) {
      const server = start(hostname, port);
      servers.push(server);
      port = server.addr.port;
    }
  } catch (error) {
    await Promise.allSettled(servers.map((server) => server.shutdown()));
    throw error;
  }
  return new ServerGroup(servers, options);
}
