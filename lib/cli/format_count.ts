/**
 * Counts with the right plural in log lines: `1 connection`, `2 connections`.
 *
 * @module
 */

const RULES = new Intl.PluralRules("en");

/**
 * Formats a count and the noun it counts, singular or plural as English
 * needs (`Intl.PluralRules` decides).
 *
 * @param count How many.
 * @param singular The noun for one, e.g. `"connection"`.
 * @param plural The noun for other counts; defaults to the singular plus `s`.
 * @returns For example `1 file`, `0 files`, `2 bytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCount } from "./format_count.ts";
 *
 * assert.equal(formatCount(1, "connection"), "1 connection");
 * assert.equal(formatCount(0, "file"), "0 files");
 * assert.equal(formatCount(2, "reply", "replies"), "2 replies");
 * ```
 */
export function formatCount(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${RULES.select(count) === "one" ? singular : plural}`;
}
