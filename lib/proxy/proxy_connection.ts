/**
 * Both directions of a proxied TCP connection: a half-close on one side is
 * passed on while the other direction keeps flowing, and a reset is passed
 * on as a reset.
 *
 * @module
 */

import type { BufferBudget } from "../io/buffer_budget.ts";
import { type PipeResult, pipeStream, type PipeStreamOptions } from "./pipe_stream.ts";

/** The options of one direction: everything of {@linkcode PipeStreamOptions} but the signal. */
export type DirectionOptions = Omit<PipeStreamOptions, "signal" | "onData" | "budget">;

/** Options for {@linkcode proxyConnection}. */
export interface ProxyConnectionOptions {
  /**
   * Client to upstream: faults, sizes, `resetAfter`, `blackhole`.
   *
   * @default {{}} (a clean pass-through)
   */
  up?: DirectionOptions;
  /**
   * Upstream to client.
   *
   * @default {{}} (a clean pass-through)
   */
  down?: DirectionOptions;
  /**
   * Close both sides after this many ms; `0` never.
   *
   * @default {0}
   */
  closeAfter?: number;
  /**
   * Turn off Nagle's algorithm on both sockets, so each chunk (each slice)
   * leaves at once instead of waiting to be merged with the next: a proxy
   * must not add the delay of its own buffering.
   *
   * @default {true}
   */
  noDelay?: boolean;
  /** Close both sides (a FIN each) when this aborts: the proxy is shutting down. */
  signal?: AbortSignal;
  /** Called with the size of each chunk read, either way. */
  onData?: (bytes: number) => void;
  /**
   * The read-buffer budget all connections of a proxy share (see
   * {@linkcode PipeStreamOptions.budget}).
   *
   * @default {undefined} (each direction grows its buffer up to its `bufferSize`)
   */
  budget?: BufferBudget;
}

/**
 * How a proxied connection ended:
 * - `closed`: both sides sent EOF (each was passed on as a half-close);
 * - `client-reset`, `upstream-reset`: that side reset, and the other was closed;
 * - `reset-after`: the `resetAfter` budget of a direction was spent;
 * - `close-after`: `closeAfter` elapsed;
 * - `aborted`: `signal` aborted;
 * - `failed`: another error (see `error`).
 */
export type ProxyEnd =
  | "closed"
  | "client-reset"
  | "upstream-reset"
  | "reset-after"
  | "close-after"
  | "aborted"
  | "failed";

/** The outcome of a proxied connection. */
export interface ProxyResult {
  /** How it ended. */
  end: ProxyEnd;
  /** Client to upstream. */
  up: PipeResult;
  /** Upstream to client. */
  down: PipeResult;
  /** The error behind `failed`. */
  error?: unknown;
}

/** Something that can be closed and shut for writing, like `Deno.Conn`. */
export interface ProxiedConn {
  /** Reads into `p`. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`. */
  write(p: Uint8Array): Promise<number>;
  /** Sends a FIN. */
  closeWrite(): Promise<void>;
  /** Closes the socket. */
  close(): void;
}

/**
 * True for errors that mean the peer reset the connection (a write after
 * its RST fails with a broken pipe).
 *
 * @param error An error from `read` or `write`.
 * @returns Whether it was a reset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isResetError } from "./proxy_connection.ts";
 *
 * assert.ok(isResetError(new Deno.errors.ConnectionReset("reset")));
 * assert.ok(!isResetError(new Deno.errors.TimedOut("slow")));
 * ```
 */
export function isResetError(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted;
}

/**
 * Proxies `client` and `upstream` to each other until both have sent EOF
 * or something ends the connection, then closes both sockets.
 *
 * - EOF one way is passed on with `closeWrite()`; the other way keeps
 *   flowing (a client that half-closes still gets its reply).
 * - A reset on one side is passed on by closing the other side while the
 *   proxy has stopped reading it. The runtime has no `SO_LINGER`, and its
 *   `close()` sends a FIN first (it calls `shutdown(SHUT_WR)`, seen with
 *   strace); with data left unread the kernel then sends an RST as well.
 *   So the peer reads EOF, and its next write fails with `BrokenPipe` (an
 *   RST after a FIN reports `EPIPE`, not `ECONNRESET`). A side that has
 *   sent nothing unread gets the FIN alone, and the RST when it next sends.
 *   A bare RST, seen as `ConnectionReset` by a reader, needs `SO_LINGER 0`:
 *   `node:net`'s `socket.resetAndDestroy()` has it (seen with strace), but
 *   a `Deno.Conn` has no descriptor to hand to `node:net`, so using it
 *   would mean both sockets and the listener on `node:net` (README, "TCP
 *   proxy with faults", says why the proxy does not).
 * - `resetAfter` reads no further than its budget, so a sender that goes
 *   on sending has unread data when the proxy closes: its writes fail.
 *
 * @param client The accepted connection.
 * @param upstream The connection to the server.
 * @param options The faults of each direction, `closeAfter` and `signal`.
 * @returns How it ended, with the bytes of each direction. It never throws.
 *
 * @example
 * ```ts ignore
 * import { proxyConnection } from "./proxy_connection.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 7010 });
 * for (;;) {
 *   const client = await listener.accept();
 *   const upstream = await Deno.connect({ hostname: "127.0.0.1", port: 7000 });
 *   proxyConnection(client, upstream, { down: { resetAfter: 1000 } })
 *     .then((result) => console.log(result.end, result.up.bytes, result.down.bytes));
 * }
 * ```
 */
export async function proxyConnection(
  client: ProxiedConn,
  upstream: ProxiedConn,
  options: ProxyConnectionOptions = {},
): Promise<ProxyResult> {
  if (options.noDelay ?? true) {
    for (const conn of [client, upstream]) {
      try {
        (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
      } catch {
        // Already closed by the peer: the first read will say so.
      }
    }
  }
  const stop = new AbortController();
  let stoppedBy: ProxyEnd | null = null;
  const stopWith = (end: ProxyEnd) => {
    stoppedBy ??= end;
    stop.abort();
  };
  const onAbort = () => stopWith("aborted");
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  const closeAfter = options.closeAfter ?? 0;
  const timer = closeAfter > 0 ? setTimeout(() => stopWith("close-after"), closeAfter) : undefined;

  const common = { signal: stop.signal, onData: options.onData, budget: options.budget };
  const up = pipeStream(client, upstream, { ...options.up, ...common });
  const down = pipeStream(upstream, client, { ...options.down, ...common });

  // Wait until both directions have passed their EOF on, or either ended otherwise.
  const { promise: over, resolve } = Promise.withResolvers<void>();
  let eofs = 0;
  const onEnded = (result: PipeResult) => {
    if (result.end === "eof" && ++eofs < 2) return;
    resolve();
  };
  // `ended` never rejects; the catch is for the rule, not for a case.
  up.ended.then(onEnded).catch(() => {});
  down.ended.then(onEnded).catch(() => {});
  stop.signal.addEventListener("abort", () => resolve(), { once: true });
  await over;

  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  stop.abort();
  // Closing ends any read still pending; a socket with unread data sends RST.
  for (const conn of [client, upstream]) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  const [upResult, downResult] = await Promise.all([up.ended, down.ended]);
  await Promise.all([up.settled, down.settled]);
  const { end, error } = classify(upResult, downResult, stoppedBy);
  return { end, up: upResult, down: downResult, ...(error === undefined ? {} : { error }) };
}

function classify(
  up: PipeResult,
  down: PipeResult,
  stoppedBy: ProxyEnd | null,
): { end: ProxyEnd; error?: unknown } {
  if (up.end === "eof" && down.end === "eof") return { end: "closed" };
  // The direction that ended first decides; the other was aborted by it.
  for (
    const [result, source, sink] of [[up, "client", "upstream"], [
      down,
      "upstream",
      "client",
    ]] as const
  ) {
    if (result.end === "reset-after") return { end: "reset-after" };
    if (result.end === "read-failed") {
      return isResetError(result.error)
        ? { end: `${source}-reset` }
        : { end: "failed", error: result.error };
    }
    if (result.end === "write-failed") {
      return isResetError(result.error)
        ? { end: `${sink}-reset` }
        : { end: "failed", error: result.error };
    }
  }
  return { end: stoppedBy ?? "aborted" };
}
