/**
 * Human-readable byte counts and transfer rates for logs and progress bars.
 *
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/**
 * Formats a byte count with binary units: `512 B`, `1.5 KiB`, `200.0 MiB`.
 *
 * @param bytes A non-negative byte count.
 * @returns The count with one decimal (none for plain bytes) and a unit.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./format_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatBytes(512), "512 B");
 * assert.equal(formatBytes(209_715_200), "200.0 MiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Formats a rate in decimal megabytes per second (10^6 bytes), the unit
 * network tools and benchmarks report: `85.2 MB/s`; under 1 MB/s in
 * kilobytes per second (`35.0 kB/s`), so small transfers do not show `0.0`.
 *
 * @param bytes Bytes moved.
 * @param seconds Over how long; 0 gives `- MB/s`.
 * @returns The rate with one decimal.
 *
 * @example
 * ```ts
 * import { formatRate } from "./format_bytes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatRate(50_000_000, 2), "25.0 MB/s");
 * assert.equal(formatRate(1750, 0.05), "35.0 kB/s");
 * ```
 */
export function formatRate(bytes: number, seconds: number): string {
  if (!(seconds > 0)) return "- MB/s";
  const perSecond = bytes / seconds;
  return perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(1)} MB/s`
    : `${(perSecond / 1e3).toFixed(1)} kB/s`;
}

/**
 * Formats a rate in the binary units of {@linkcode formatBytes}, per second:
 * `45.4 KiB/s`, `85.2 MiB/s`, for a line that also shows sizes in binary
 * units (`2.3 KiB in 0.05 s (45.4 KiB/s)`), so the two can be compared.
 *
 * @param bytes Bytes moved.
 * @param seconds Over how long; 0 gives `- B/s`.
 * @returns The rate with one decimal (none under 1 KiB/s) and a unit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatByteRate } from "./format_bytes.ts";
 *
 * assert.equal(formatByteRate(2 * 1024 * 1024, 2), "1.0 MiB/s");
 * assert.equal(formatByteRate(100, 0), "- B/s");
 * ```
 */
export function formatByteRate(bytes: number, seconds: number): string {
  if (!(seconds > 0)) return "- B/s";
  return `${formatBytes(Math.round(bytes / seconds))}/s`;
}
