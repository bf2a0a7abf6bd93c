/**
 * Ctrl+C (SIGINT) and SIGTERM as a graceful shutdown, the same way in every
 * server: the first signal starts the shutdown, a deliberate second Ctrl+C
 * exits at once.
 *
 * One keypress can arrive as two SIGINTs: a terminal signals its whole
 * foreground process group, and `deno task` (in that group) also forwards
 * the signal to the script it runs, so the script gets SIGINT twice, 1-2 ms
 * apart. A SIGINT within `minForceInterval` of the first signal is taken as
 * that same keypress and ignored.
 *
 * @module
 */

import { type ServerLogger, STDERR_LOGGER } from "./logger.ts";

/** Default {@linkcode ShutdownSignalOptions.minForceInterval}, in milliseconds. */
export const DEFAULT_MIN_FORCE_INTERVAL = 250;

/** Options for {@linkcode onShutdownSignal}. */
export interface ShutdownSignalOptions {
  /**
   * Where "shutting down" is logged.
   *
   * @default {STDERR_LOGGER}
   */
  logger?: ServerLogger;
  /**
   * A second SIGINT forces an exit only when it comes at least this many
   * milliseconds after the first signal; earlier ones are the same keypress
   * delivered twice (terminal and `deno task`), and are ignored.
   *
   * @default {250}
   */
  minForceInterval?: number;
}

/**
 * Calls `shutdown` on the first SIGINT or SIGTERM (SIGINT only on Windows,
 * where SIGTERM cannot be listened for). A second SIGINT at least
 * `minForceInterval` ms later exits at once with code 130, for a shutdown
 * that hangs.
 *
 * @param shutdown Starts the graceful shutdown; called once.
 * @param options Where to log, and how far apart two Ctrl+C must be.
 * @returns A function that removes the signal listeners (call it once shut
 *   down, so the process can exit). Within `minForceInterval` of the first
 *   signal it keeps ignoring SIGINT for the rest of that interval, so the
 *   forwarded copy of the keypress cannot kill a process that is finishing.
 * @throws {RangeError} If `minForceInterval` is negative or not a number.
 *
 * @example
 * ```ts ignore
 * import { onShutdownSignal } from "./shutdown_signals.ts";
 *
 * const controller = new AbortController();
 * const stopListening = onShutdownSignal(() => controller.abort());
 * // ... serve until controller.signal aborts ...
 * stopListening();
 * ```
 */
export function onShutdownSignal(
  shutdown: (signal: Deno.Signal) => void,
  options: ShutdownSignalOptions = {},
): () => void {
  const log = options.logger ?? STDERR_LOGGER;
  const minForceInterval = options.minForceInterval ?? DEFAULT_MIN_FORCE_INTERVAL;
  if (!(minForceInterval >= 0)) {
    throw new RangeError(
      `Cannot listen for signals: minForceInterval ${minForceInterval} is not a non-negative number`,
    );
  }
  let firstAt = -Infinity;
  const onSignal = (signal: Deno.Signal) => {
    const now = performance.now();
    if (firstAt !== -Infinity) {
      if (signal === "SIGINT" && now - firstAt >= minForceInterval) {
        log.warn("second Ctrl+C: exiting without waiting");
        Deno.exit(130);
      }
      return;
    }
    firstAt = now;
    log.info(
      signal === "SIGINT"
        ? "SIGINT: shutting down (Ctrl+C again to force)"
        : `${signal}: shutting down`,
    );
    shutdown(signal);
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  return () => {
    const left = firstAt + minForceInterval - performance.now();
    if (left > 0) {
      // Removing the last listener restores the default action (exit 130 for
      // SIGINT, 143 for SIGTERM), and the copy that `deno task` forwards to its
      // child may still be on its way, for either signal.
      const swallow = () => {};
      for (const signal of signals) {
        Deno.addSignalListener(signal, swallow);
        Deno.unrefTimer(setTimeout(() => Deno.removeSignalListener(signal, swallow), left));
      }
    }
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
}

/**
 * Calls `onInterrupt` once for a Ctrl+C, however many SIGINTs the terminal
 * and `deno task` deliver for it; later ones are ignored too, as long as the
 * listener is installed. For clients, which have no shutdown to force.
 *
 * @param onInterrupt What Ctrl+C does (close politely, print a summary).
 * @returns A function that removes the listener (SIGINT then kills again).
 *
 * @example
 * ```ts ignore
 * import { onFirstInterrupt } from "./shutdown_signals.ts";
 *
 * const stop = new AbortController();
 * const stopListening = onFirstInterrupt(() => stop.abort());
 * // ... run until done or stop.signal aborts ...
 * stopListening();
 * ```
 */
export function onFirstInterrupt(onInterrupt: () => void): () => void {
  let seen = false;
  const listener = () => {
    if (seen) return;
    seen = true;
    onInterrupt();
  };
  Deno.addSignalListener("SIGINT", listener);
  return () => Deno.removeSignalListener("SIGINT", listener);
}
