/**
 * Ctrl+C (SIGINT) and SIGTERM as a graceful shutdown, the same way in every
 * server: the first signal starts the shutdown, a second Ctrl+C exits at once.
 *
 * @module
 */

import { Logger } from "../cli/log.ts";

/** A repeat of the first signal within this many ms is the same Ctrl+C, delivered twice. */
const REPEAT_WINDOW_MS = 200;

/** Options for {@linkcode onShutdownSignal}. */
export interface ShutdownSignalOptions {
  /**
   * Where "shutting down" is logged.
   *
   * @default {new Logger()}
   */
  logger?: Logger;
}

/**
 * Calls `shutdown` on the first SIGINT or SIGTERM (SIGINT only on Windows,
 * where SIGTERM cannot be listened for). A second SIGINT while shutting down
 * exits at once with code 130, for a shutdown that hangs.
 *
 * @param shutdown Starts the graceful shutdown; called once.
 * @param options Where to log.
 * @returns A function that removes the signal listeners (call it once shut
 *   down, so the process can exit).
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
  const log = options.logger ?? new Logger();
  let started = false;
  let startedAt = 0;
  const onSignal = (signal: Deno.Signal) => {
    if (started) {
      // One Ctrl+C under `deno task` can arrive twice: the terminal signals
      // the whole process group, and the task runner passes its own on.
      if (performance.now() - startedAt < REPEAT_WINDOW_MS) return;
      if (signal === "SIGINT") {
        log.warn("second Ctrl+C: exiting without waiting");
        Deno.exit(130);
      }
      return;
    }
    started = true;
    startedAt = performance.now();
    log.info(`${signal}: shutting down (Ctrl+C again to force)`);
    shutdown(signal);
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
}
