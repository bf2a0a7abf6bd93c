/**
 * The open-file ceiling every TCP server in the process learns from EMFILE:
 * the runtime cannot read `ulimit -n` without `--allow-all`, so when
 * `accept()` fails for lack of descriptors, the sockets held at that moment
 * are the ceiling, remembered for a while (see `maxConnections` in
 * serve_tcp.ts).
 *
 * @module
 */

import type { ServerLogger } from "../net/logger.ts";
import { errorText } from "./_error_text.ts";

/** How long accepting pauses after `accept()` ran out of descriptors, as in nginx. */
export const EMFILE_PAUSE_MS = 500;
/** How long the open-file ceiling learned from a failed `accept()` is remembered. */
export const FD_CEILING_MEMORY_MS = 30_000;
/** The most descriptors kept spare under a learned ceiling, to refuse clients politely. */
const FD_RESERVE_MAX = 32;

/** Why a client is refused: the configured limit, or the learned open-file ceiling. */
export type LimitReason = "maxConnections" | "descriptors";

/**
 * File descriptors belong to the process, not to one server, so every
 * TcpServer in the process counts its sockets here and shares the ceiling
 * learned from EMFILE (the chat server's TCP and web ports, for instance).
 */
export const processSockets = {
  /** Connections being served by all servers. */
  served: 0,
  /** Refusals being sent by all servers. */
  refusing: 0,
  /** Sockets held when `accept()` last failed for lack of descriptors, if remembered. */
  ceiling: null as number | null,
  /** When the ceiling was last measured (`Date.now()`). */
  learnedAt: 0,
};

/** True for EMFILE and ENFILE: the process (or system) has no file descriptor left. */
export function isOutOfDescriptors(error: unknown): boolean {
  return /too many open files/i.test(errorText(error));
}

/** Forgets a learned ceiling older than {@linkcode FD_CEILING_MEMORY_MS}. */
function forgetStaleCeiling(log: ServerLogger): void {
  const { ceiling } = processSockets;
  if (ceiling !== null && Date.now() - processSockets.learnedAt > FD_CEILING_MEMORY_MS) {
    log.info(`open-file ceiling of ${ceiling} sockets forgotten`);
    processSockets.ceiling = null;
  }
}

/**
 * Records that `accept()` just ran out of descriptors.
 *
 * @returns How many sockets the process holds, the ceiling measured.
 */
export function learnDescriptorCeiling(log: ServerLogger): number {
  // The clients queued in the kernel wait there. Count every socket we
  // hold, refusals included: counting only served connections would
  // measure a lower ceiling after each burst of refusals (a ratchet).
  const open = processSockets.served + processSockets.refusing;
  // Fewer sockets than the remembered ceiling means descriptors are
  // held elsewhere for a moment (a closed socket whose pending read is
  // still being cancelled, a file): keep the ceiling, do not shrink it.
  forgetStaleCeiling(log);
  processSockets.ceiling = Math.max(open, processSockets.ceiling ?? 0);
  processSockets.learnedAt = Date.now();
  return open;
}

/**
 * The limit in force for one server, forgetting a learned ceiling once it is old.
 *
 * @param maxConnections The server's own limit.
 * @param served How many connections this server serves now.
 */
export function connectionLimit(
  maxConnections: number,
  served: number,
  log: ServerLogger,
): { limit: number; reason: LimitReason } {
  forgetStaleCeiling(log);
  if (processSockets.ceiling === null) {
    return { limit: maxConnections, reason: "maxConnections" };
  }
  const reserve = Math.min(FD_RESERVE_MAX, Math.ceil(processSockets.ceiling / 8));
  // What the process may serve, less what the other servers in it serve.
  const others = processSockets.served - served;
  const learned = Math.max(0, Math.max(1, processSockets.ceiling - reserve) - others);
  return learned < maxConnections
    ? { limit: learned, reason: "descriptors" }
    : { limit: maxConnections, reason: "maxConnections" };
}
