/**
 * The UDP proxy's session bookkeeping: one upstream socket per client address, its replies
 * relayed back, the faults of each direction, expiry, eviction and the counts Ctrl+C prints.
 *
 * @module
 */

import type { ServerLogger } from "../net/logger.ts";
import { STDERR_LOGGER } from "../net/logger.ts";
import { formatAddr } from "../net/net_addr.ts";
import { listenUdp } from "../udp/listen_udp.ts";
import { DatagramShaper, type DatagramShaperCounts } from "./datagram_shaper.ts";
import type { DatagramFaultSchedule } from "./fault_schedule.ts";
import { UdpSessionTable } from "./udp_session_table.ts";

/** What Ctrl+C prints. */
export interface UdpProxySummary {
  /** The seed of this run. */
  seed: number;
  /** Client to server. */
  up: DatagramShaperCounts;
  /** Server to client. */
  down: DatagramShaperCounts;
  /** Sessions opened, expired and evicted. */
  sessions: { opened: number; expired: number; evicted: number };
  /** Datagrams from somewhere other than the upstream, dropped. */
  strays: number;
}

/** Options for {@linkcode UdpProxySessions}. */
export interface UdpProxySessionsOptions {
  /** The upstream server every session forwards to. */
  target: Deno.NetAddr;
  /**
   * The fault schedule of one direction of session number `index` (0, 1, 2...): `up` is
   * client to server, `down` server to client. Each session draws its own streams, so its
   * fate does not depend on how its traffic interleaves with other clients'.
   */
  schedule(index: number, direction: "up" | "down"): DatagramFaultSchedule;
  /**
   * Milliseconds a held-back (reordered) datagram waits before it is sent anyway.
   *
   * @default {1000}
   */
  maxHold?: number;
  /**
   * Client addresses served at once; the idlest is evicted.
   *
   * @default {1024}
   */
  maxSessions?: number;
  /**
   * Milliseconds without traffic after which a session is forgotten.
   *
   * @default {60000}
   */
  idleTimeout?: number;
  /**
   * Told when sessions open and close, and about failed sends.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
}

/** A client's session: its upstream socket and the faults of each direction. */
interface Session {
  client: Deno.NetAddr;
  socket: Deno.DatagramConn;
  up: DatagramShaper;
  down: DatagramShaper;
}

const DIRECTION_COUNTS = [
  "received",
  "sent",
  "lost",
  "duplicated",
  "reordered",
  "overflow",
] as const;

function emptyCounts(): DatagramShaperCounts {
  return { received: 0, sent: 0, lost: 0, duplicated: 0, reordered: 0, overflow: 0 };
}

function addCounts(into: DatagramShaperCounts, from: DatagramShaperCounts): void {
  for (const key of DIRECTION_COUNTS) into[key] += from[key];
}

/**
 * The sessions of a UDP proxy listening on `listener`: {@linkcode UdpProxySessions.forward}
 * each datagram a client sends, and {@linkcode UdpProxySessions.close} at shutdown for the
 * counts. Each session has its own upstream socket (bound to the loopback address of the
 * target's family), whose replies go back to that client.
 *
 * @example Forwarding without faults
 * ```ts ignore
 * import { UdpProxySessions } from "./udp_proxy_sessions.ts";
 * import { DatagramFaultSchedule } from "./fault_schedule.ts";
 * import { listenUdp } from "../udp/listen_udp.ts";
 *
 * const listener = listenUdp("127.0.0.1", 0);
 * const sessions = new UdpProxySessions(listener, {
 *   target: { transport: "udp", hostname: "127.0.0.1", port: 7001 },
 *   schedule: () => new DatagramFaultSchedule(),
 * });
 * const [data, from] = await listener.receive();
 * sessions.forward(data, from as Deno.NetAddr);
 * listener.close();
 * const summary = await sessions.close(1);
 * ```
 */
export class UdpProxySessions {
  #listener: Deno.DatagramConn;
  #target: Deno.NetAddr;
  #options: UdpProxySessionsOptions;
  #log: ServerLogger;
  #upstreamHost: string;
  #table: UdpSessionTable<Session>;
  #totals = { up: emptyCounts(), down: emptyCounts() };
  #sessionCounts = { opened: 0, expired: 0, evicted: 0 };
  #strays = 0;
  #loops = new Set<Promise<void>>();
  #sweep: ReturnType<typeof setInterval>;

  /**
   * Starts an empty table and its expiry sweep.
   *
   * @param listener The proxy's client-facing socket; replies are sent from it.
   * @param options The target, the faults, the limits.
   * @throws {RangeError} If `maxSessions` or `idleTimeout` is out of range.
   */
  constructor(listener: Deno.DatagramConn, options: UdpProxySessionsOptions) {
    this.#listener = listener;
    this.#target = options.target;
    this.#options = options;
    this.#log = options.logger ?? STDERR_LOGGER;
    // Upstream sockets bind the loopback address of the target's family.
    this.#upstreamHost = options.target.hostname.includes(":") ? "::1" : "127.0.0.1";
    const idleTimeout = options.idleTimeout ?? 60_000;
    this.#table = new UdpSessionTable<Session>({
      maxSessions: options.maxSessions ?? 1024,
      idleTimeout,
    });
    this.#sweep = setInterval(() => {
      for (const [key, session] of this.#table.expire()) {
        this.#sessionCounts.expired++;
        // toPrecision: 0.7 s, not the 0.7000000000000001 that 700 / 1000 prints.
        const seconds = Number((idleTimeout / 1000).toPrecision(12));
        this.#closeSession(key, session, `expired after ${seconds} s idle`);
      }
    }, Math.max(10, Math.min(1_000, idleTimeout / 4)));
  }

  /**
   * Sends one datagram from `client` upstream through its session, opening one for a new
   * client (a failure to open is logged and the datagram dropped).
   *
   * @param data The datagram; copied, since the caller's buffer is reused.
   * @param client Where it came from.
   */
  forward(data: Uint8Array, client: Deno.NetAddr): void {
    const key = formatAddr(client);
    let session = this.#table.get(key);
    if (!session) {
      try {
        session = this.#openSession(key, client);
      } catch (error) {
        this.#log.warn(`cannot open a session for ${key}: ${(error as Error).message}`);
        return;
      }
    }
    session.up.push(data.slice());
  }

  /**
   * Closes every session and stops the sweep.
   *
   * @param seed The run's seed, for the summary.
   * @returns What each direction received, sent, lost, duplicated and reordered.
   */
  async close(seed: number): Promise<UdpProxySummary> {
    clearInterval(this.#sweep);
    for (const [key, session] of this.#table.clear()) {
      this.#closeSession(key, session, "closed by shutdown");
    }
    await Promise.all(this.#loops);
    return { seed, ...this.#totals, sessions: this.#sessionCounts, strays: this.#strays };
  }

  #closeSession(key: string, session: Session, why: string): void {
    session.up.close();
    session.down.close();
    addCounts(this.#totals.up, session.up.counts);
    addCounts(this.#totals.down, session.down.counts);
    try {
      session.socket.close();
    } catch {
      // Already closed.
    }
    this.#log.info(`session ${key} ${why}`);
  }

  #openSession(key: string, client: Deno.NetAddr): Session {
    const index = this.#sessionCounts.opened++;
    const socket = listenUdp(this.#upstreamHost, 0);
    const onSendError = (error: unknown) =>
      this.#log.warn(`session ${key}: send failed: ${(error as Error).message}`);
    const maxHold = this.#options.maxHold ?? 1000;
    const session: Session = {
      client,
      socket,
      up: new DatagramShaper(
        this.#options.schedule(index, "up"),
        (data) => socket.send(data, this.#target),
        { maxHold, onSendError },
      ),
      down: new DatagramShaper(
        this.#options.schedule(index, "down"),
        (data) => this.#listener.send(data, client),
        { maxHold, onSendError },
      ),
    };
    const evicted = this.#table.add(key, session);
    if (evicted) {
      this.#sessionCounts.evicted++;
      this.#closeSession(evicted[0], evicted[1], "evicted (--max-sessions reached)");
    }
    this.#log.info(`session ${key} opened (upstream socket ${formatAddr(socket.addr)})`);
    const loop = this.#relayReplies(key, session).catch((error) =>
      this.#log.warn(`session ${key}: ${(error as Error).message}`)
    );
    this.#loops.add(loop);
    loop.finally(() => this.#loops.delete(loop));
    return session;
  }

  /** Replies from the upstream go back to the session's client. */
  async #relayReplies(key: string, session: Session): Promise<void> {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await session.socket.receive(buffer);
      } catch {
        return; // The session was closed.
      }
      const addr = from as Deno.NetAddr;
      if (addr.port !== this.#target.port) {
        this.#strays++;
        continue;
      }
      this.#table.touch(key);
      // Copy: the buffer is reused, and the shaper may hold the datagram.
      session.down.push(data.slice());
    }
  }
}
