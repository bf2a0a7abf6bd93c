/**
 * The public shapes of a `WebSocketConnection` (websocket_connection.ts): its options with
 * their defaults, the messages it delivers, and how it reports its state and its end.
 *
 * @module
 */

import type { PerMessageDeflate } from "./websocket_deflate.ts";
import type { OPCODE } from "./websocket_frame.ts";

/** A complete message received from the peer. */
export type WebSocketMessage =
  | { type: "text"; data: string }
  | { type: "binary"; data: Uint8Array };

/** How a connection ended; `WebSocketConnection.closed` resolves to it once. */
export interface WebSocketCloseInfo {
  /**
   * The close code: the one the peer sent (1005 if its Close frame had none), the one we sent
   * when we failed the connection, or 1006 when it ended without a closing handshake.
   */
  code: number;
  /** The reason that came with the code. */
  reason: string;
  /** `true` when both sides exchanged Close frames. */
  wasClean: boolean;
}

/** The life of a connection: `open`, then `closing` once a Close frame is sent, then `closed`. */
export type WebSocketReadyState = "open" | "closing" | "closed";

/** Options for `WebSocketConnection`. */
export interface WebSocketConnectionOptions {
  /**
   * Which end this is. A server receives masked frames and sends unmasked ones; a client the
   * opposite.
   *
   * @default {"server"}
   */
  role?: "server" | "client";
  /**
   * The subprotocol agreed in the handshake, for `WebSocketConnection.protocol`.
   *
   * @default {undefined}
   */
  protocol?: string;
  /**
   * Bytes already read after the handshake, decoded before anything else.
   *
   * @default {undefined}
   */
  leftover?: Uint8Array;
  /**
   * Largest incoming message in bytes; larger ones fail the connection with 1009.
   *
   * @default {1048576}
   */
  maxMessageSize?: number;
  /**
   * Most fragments per incoming message; more fail the connection with 1009.
   *
   * @default {1024}
   */
  maxFragments?: number;
  /**
   * Largest send queue in bytes (frames not yet written to the socket). A send that would
   * exceed it drops the queue and closes the connection with `overflowCloseCode`, so a peer that
   * does not read costs at most this much memory.
   *
   * @default {4194304} (4 MiB)
   */
  maxBufferedAmount?: number;
  /**
   * The close code used when the send queue overflows: 1008 (policy violation: the peer does not
   * read fast enough) or 1013 (try again later: the server is overloaded).
   *
   * @default {1008}
   */
  overflowCloseCode?: 1008 | 1013;
  /**
   * Send a Ping after this many milliseconds without hearing from the peer; `0` disables it.
   * A live peer answers with a Pong, which counts as activity.
   *
   * @default {30000}
   */
  pingInterval?: number;
  /**
   * Close with 1001 after this many milliseconds without hearing from the peer; `0` disables it.
   * The clock runs only while the application is waiting for a message: a slow consumer that
   * holds back reading is not idle.
   *
   * @default {60000}
   */
  idleTimeout?: number;
  /**
   * How long to wait for the peer's Close frame after sending ours, and for queued frames to be
   * written when closing, before closing the TCP connection anyway (ms).
   *
   * @default {3000}
   */
  closeTimeout?: number;
  /**
   * The permessage-deflate parameters agreed in the handshake (`acceptWebSocket` returns them),
   * or `undefined` when the extension was not negotiated. Messages of at least `threshold`
   * bytes are then sent compressed, and compressed messages from the peer are inflated within
   * `maxMessageSize`.
   *
   * @default {undefined}
   */
  perMessageDeflate?: PerMessageDeflate;
  /**
   * Called with every Ping and Pong the peer sends, after a Ping has been answered: for tools
   * that show control frames (`wscat -P`). The payload is a copy the callback may keep. Like
   * messages, control frames are read only while the application waits in `receive()`.
   *
   * @default {undefined} (control frames are handled silently)
   */
  onControl?: (opcode: ControlOpcode, payload: Uint8Array) => void;
  /**
   * Keep delivering the messages that arrive after our Close frame, until the peer's Close: a
   * client that closes at the end of its input still gets the replies already on their way.
   * Off, `close()` drops them (a server closing a client has no use for them).
   *
   * @default {false}
   */
  receiveAfterClose?: boolean;
}

/** The control frames {@linkcode WebSocketConnectionOptions.onControl} reports. */
export type ControlOpcode = typeof OPCODE.PING | typeof OPCODE.PONG;

/** Default {@linkcode WebSocketConnectionOptions.maxBufferedAmount}: 4 MiB. */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 4 * 1024 * 1024;
