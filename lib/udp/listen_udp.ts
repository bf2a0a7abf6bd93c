/**
 * Opening a UDP socket, with errors that say what to do.
 *
 * @module
 */

import { explainListenError } from "../net/net_errors.ts";

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
 * A UDP socket could not be bound. The message says why and what to do; `cause` is the
 * runtime's error (`Deno.errors.NotCapable` when `--allow-net` lacks the address), and
 * `hostname`/`port` are what was being bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenUdpError } from "./listen_udp.ts";
 *
 * const error = new ListenUdpError("permission denied", "0.0.0.0", 0, new Deno.errors.NotCapable());
 * assert.ok(error.cause instanceof Deno.errors.NotCapable);
 * ```
 */
export class ListenUdpError extends Error {
  /** The local address that was being bound. */
  readonly hostname: string;
  /** The local port that was being bound. */
  readonly port: number;

  /**
   * Creates the error.
   *
   * @param message The advice.
   * @param hostname The local address.
   * @param port The local port.
   * @param cause The runtime's error.
   */
  constructor(message: string, hostname: string, port: number, cause?: unknown) {
    super(message, { cause });
    this.name = "ListenUdpError";
    this.hostname = hostname;
    this.port = port;
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
 * @throws {ListenUdpError} If the address cannot be bound; the message says why and
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
    throw new ListenUdpError(explainListenError(error, hostname, port), hostname, port, error);
  }
}
