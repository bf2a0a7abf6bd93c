/**
 * The file receiver's log line for each transfer's end, in words.
 *
 * @module
 */

import type { ReceiveResult } from "../file_transfer/file_receiver.ts";
import { formatByteRate, formatBytes } from "./format_bytes.ts";
import type { LogLevel } from "./log.ts";

/** One log line: its level and its text. */
export interface ReceiveOutcomeLine {
  /** `info` for a saved file, `warn` for a refusal or an interruption, `error` for a failure. */
  level: LogLevel;
  /** The text, to follow the connection's name (`#3 127.0.0.1:50000 `). */
  message: string;
}

/**
 * Words how a transfer ended, for the receiver's log: what was saved and how fast, where an
 * interrupted one stopped and whether its part is kept, or why it was refused.
 *
 * @param result What {@linkcode FileReceiver.receive} resolved to.
 * @param seconds How long the connection lasted.
 * @returns The level and text of the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeReceiveOutcome } from "./describe_receive_outcome.ts";
 *
 * const refused = { status: "refused", offset: 0, received: 0, reason: "wrong secret" } as const;
 * assert.deepEqual(describeReceiveOutcome(refused, 0.1), {
 *   level: "warn",
 *   message: "refused: wrong secret",
 * });
 * ```
 */
export function describeReceiveOutcome(result: ReceiveResult, seconds: number): ReceiveOutcomeLine {
  const name = result.name ?? "(no header)";
  switch (result.status) {
    case "saved":
      return {
        level: "info",
        message: `saved ${result.path}: ${formatBytes(result.size ?? 0)} verified, ${
          formatBytes(result.received)
        } received in ${seconds.toFixed(2)} s (${
          formatByteRate(result.received, seconds)
        }), sha256 ${result.sha256}`,
      };
    case "interrupted": {
      if (result.name === undefined) {
        return { level: "debug", message: "left before sending a header" };
      }
      const have = result.offset + result.received;
      return {
        level: "warn",
        message: `${name} interrupted at ${formatBytes(have)} of ${
          formatBytes(result.size ?? 0)
        } (${result.reason}); ${have > 0 ? `kept .${name}.part for resuming` : "nothing kept"}`,
      };
    }
    case "refused":
      return { level: "warn", message: `refused: ${result.reason}` };
    case "rejected":
      return { level: "warn", message: `rejected ${name}: ${result.reason}` };
    case "failed":
      return { level: "error", message: `${result.reason}` };
  }
}
