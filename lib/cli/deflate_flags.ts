/**
 * The permessage-deflate flags of the WebSocket servers (`--no-deflate`, `--deflate-threshold`,
 * `--deflate-level`) and their translation into the library's option.
 *
 * @module
 */

import {
  DEFAULT_DEFLATE_THRESHOLD,
  type PerMessageDeflateOptions,
} from "../websocket/websocket_deflate.ts";

/**
 * The compression flags every WebSocket server here accepts; spread them into a
 * {@linkcode CliSpec}'s options and pass the values to {@linkcode deflateOptionsFrom}.
 *
 * @example
 * ```ts
 * import { DEFLATE_SERVER_OPTIONS } from "./deflate_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFLATE_SERVER_OPTIONS["deflate-level"].default, 1);
 * ```
 */
export const DEFLATE_SERVER_OPTIONS = {
  "no-deflate": {
    type: "boolean",
    description: "Do not negotiate permessage-deflate compression (on by default)",
  },
  "deflate-threshold": {
    type: "integer",
    default: DEFAULT_DEFLATE_THRESHOLD,
    min: 0,
    valueName: "BYTES",
    description: "Send messages shorter than this uncompressed",
  },
  "deflate-level": {
    type: "integer",
    default: 1,
    min: 0,
    max: 9,
    description: "zlib level for compressed messages, 0 (store) to 9 (smallest, slowest)",
  },
} as const;

/** The values of {@linkcode DEFLATE_SERVER_OPTIONS} after parsing. */
export interface DeflateFlagValues {
  /** `--no-deflate`. */
  "no-deflate": boolean;
  /** `--deflate-threshold BYTES`. */
  "deflate-threshold": number;
  /** `--deflate-level N`. */
  "deflate-level": number;
}

/**
 * Turns the parsed compression flags into the servers' `perMessageDeflate` option.
 *
 * @param values The parsed flags.
 * @returns `false` for `--no-deflate`, otherwise the threshold and level.
 *
 * @example
 * ```ts
 * import { deflateOptionsFrom } from "./deflate_flags.ts";
 * import assert from "node:assert/strict";
 *
 * const on = { "no-deflate": false, "deflate-threshold": 512, "deflate-level": 6 };
 * assert.deepEqual(deflateOptionsFrom(on), { threshold: 512, level: 6 });
 * assert.equal(deflateOptionsFrom({ ...on, "no-deflate": true }), false);
 * ```
 */
export function deflateOptionsFrom(values: DeflateFlagValues): PerMessageDeflateOptions | false {
  if (values["no-deflate"]) return false;
  return { threshold: values["deflate-threshold"], level: values["deflate-level"] };
}
