/**
 * Opening a UDP socket, with errors that say what to do.
 *
 * @module
 */

import { ListenError } from "../net/net_errors.ts";

/**
 * `Deno.listenDatagram` is missing: the runtime was started without `--unstable-net`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnstableNetError } from "./listen_udp.ts";
 *
 * assert.ok(new UnstableNetError() instanceof TypeError);
 * ```
 */
export class UnstableNetError extends TypeError {
  /** Creates the error, with the advice as its message. */
  constructor() {
    super(
      "Cannot open a UDP socket: Deno.listenDatagram is unstable, run with --unstable-net " +
        '(or add "unstable": ["net"] to deno.json)',
    );
    this.name = "UnstableNetError";
  }
}

/**
 * Opens a UDP socket bound to `hostname:port` (port 0 picks a free one).
 *
 * `Deno.listenDatagram` is still unstable: without `--unstable-net` (or
 * `"unstable": ["net"]` in `deno.json`) it does not exist, and the runtime's
 * own error (`Deno.listenDatagram is not a function`) does not say why.
 *
 * @param hostname The local address, like `127.0.0.1` or `::1`.
 * @param port The local port.
 * @returns The socket.
 * @throws {UnstableNetError} (a `TypeError`) If the runtime was started without `--unstable-net`.
 * @throws {ListenError} If the address cannot be bound; the message says why and
 *   what to do (the `--allow-net` flag to add, `--port 0` for a port in use).
 *
 * @example
 * ```ts ignore
 * import { listenUdp } from "./listen_udp.ts";
 *
 * const socket = listenUdp("127.0.0.1", 0);
 * console.log(`bound to port ${(socket.addr as Deno.NetAddr).port}`);
 * socket.close();
 * ```
 */
export function listenUdp(hostname: string, port: number): Deno.DatagramConn {
  if (typeof Deno.listenDatagram !== "function") {
    throw new UnstableNetError();
  }
  try {
    return Deno.listenDatagram({ transport: "udp", hostname, port });
  } catch (error) {
    throw new ListenError(error, hostname, port);
  }
}
