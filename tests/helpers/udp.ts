/**
 * Shared pieces of the UDP tests: bounded receives and a lossy relay.
 * (Spawning scripts and tools: script_process.ts; tools: external_tool.ts.)
 *
 * @module
 */

import { decodeEchoProbe } from "../../lib/udp/echo_probe.ts";

/** Opens a UDP socket on an ephemeral port. */
export function udpSocket(hostname = "127.0.0.1"): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
}

/**
 * Receives one datagram, or throws after `ms`. A pending receive can only be
 * cancelled by closing the socket, so a timeout closes it.
 */
export async function receiveWithin(
  socket: Deno.DatagramConn,
  ms = 5000,
  buffer?: Uint8Array,
): Promise<[Uint8Array, Deno.NetAddr]> {
  const timer = setTimeout(() => socket.close(), ms);
  try {
    const [data, addr] = await socket.receive(buffer);
    return [data, addr as Deno.NetAddr];
  } catch (error) {
    throw new Error(`no datagram within ${ms} ms`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** What the relay should do to the traffic, by 1-based position. */
export interface RelayPlan {
  /** Drop every Nth request from the client (0 = never). */
  dropEvery: number;
  /** Also drop these requests (1-based, in arrival order). */
  dropRequests?: ReadonlySet<number>;
  /** Replies (by arrival order from the server) sent twice. */
  duplicate: ReadonlySet<number>;
  /** Replies held back and sent just after the next reply. */
  reorder: ReadonlySet<number>;
}

/** What the relay did. */
export interface RelayRecord {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  /** Sequence numbers (of echo probes) of the dropped requests. */
  droppedSeqs: number[];
}

/**
 * A UDP relay between one client and one server on loopback that drops,
 * duplicates and reorders datagrams to a fixed plan and records what it did.
 * Its decisions depend only on datagram order, never on timing.
 */
export class LossyRelay implements AsyncDisposable {
  readonly record: RelayRecord = {
    forwarded: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    droppedSeqs: [],
  };
  readonly addr: Deno.NetAddr;
  #socket: Deno.DatagramConn;
  #server: Deno.NetAddr;
  #plan: RelayPlan;
  #client: Deno.NetAddr | null = null;
  #held: Uint8Array | null = null;
  #requests = 0;
  #replies = 0;
  #loop: Promise<void>;

  constructor(server: Deno.NetAddr, plan: RelayPlan) {
    this.#server = server;
    this.#plan = plan;
    this.#socket = udpSocket(server.hostname);
    this.addr = this.#socket.addr as Deno.NetAddr;
    this.#loop = this.#run();
  }

  /** True while a reply is held back for reordering. */
  get holding(): boolean {
    return this.#held !== null;
  }

  async #run(): Promise<void> {
    for (;;) {
      let data: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [d, a] = await this.#socket.receive();
        data = d;
        from = a as Deno.NetAddr;
      } catch {
        return; // closed
      }
      const fromServer = from.hostname === this.#server.hostname &&
        from.port === this.#server.port;
      if (!fromServer) {
        this.#client = from;
        this.#requests++;
        const dropped = (this.#plan.dropEvery > 0 && this.#requests % this.#plan.dropEvery === 0) ||
          this.#plan.dropRequests?.has(this.#requests);
        if (dropped) {
          this.record.dropped++;
          this.record.droppedSeqs.push(decodeEchoProbe(data)?.seq ?? -1);
          continue;
        }
        this.record.forwarded++;
        await this.#socket.send(data, this.#server);
        continue;
      }
      if (!this.#client) continue;
      this.#replies++;
      if (this.#plan.reorder.has(this.#replies) && this.#held === null) {
        this.#held = data;
        continue;
      }
      await this.#socket.send(data, this.#client);
      if (this.#plan.duplicate.has(this.#replies)) {
        this.record.duplicated++;
        await this.#socket.send(data, this.#client);
      }
      if (this.#held) {
        const held = this.#held;
        this.#held = null;
        this.record.reordered++;
        await this.#socket.send(held, this.#client);
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.close();
    await this.#loop;
  }
}
