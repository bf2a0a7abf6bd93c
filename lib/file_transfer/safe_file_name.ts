/**
 * Checking a file name that came from the network before it touches the disk.
 *
 * @module
 */

/**
 * The longest accepted name, in UTF-8 bytes. Linux file systems allow 255;
 * the rest is kept for the `.NAME.part` temporary file next to it.
 */
export const MAX_FILE_NAME_BYTES = 240;

/**
 * Checks that `name` is a plain file name, safe to join to a directory:
 * a name from a peer must never choose where a file lands.
 *
 * Refused (rather than quietly rewritten, so the sender learns what happened):
 * - empty names and names over {@linkcode MAX_FILE_NAME_BYTES} bytes;
 * - any `/` or `\` (no paths, relative or absolute, on any system);
 * - names starting with `.`: `.` and `..`, hidden files, and our own
 *   `.NAME.part` temporary files;
 * - control characters (NUL, newlines, escapes that would garble logs);
 * - names ending with a space or a dot, or with a `:` anywhere, which Windows
 *   cannot store.
 *
 * ```ts ignore
 * await Deno.writeFile(`${dir}/${header.name}`, data);  // Bad: "../../.bashrc" escapes dir
 * await Deno.writeFile(`${dir}/${assertSafeFileName(header.name)}`, data);  // Good
 * ```
 *
 * @param name The name as received.
 * @returns `name`, unchanged.
 * @throws {TypeError} If the name is not a string or is unsafe; the message says why.
 *
 * @example
 * ```ts
 * import { assertSafeFileName } from "./safe_file_name.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(assertSafeFileName("report 2026.pdf"), "report 2026.pdf");
 * for (const hostile of ["../x", "/etc/x", "a/b", "..", ".bashrc", "a\\b", "x\n"]) {
 *   assert.throws(() => assertSafeFileName(hostile), TypeError, `accepted ${hostile}`);
 * }
 * ```
 */
export function assertSafeFileName(name: unknown): string {
  if (typeof name !== "string") {
    throw new TypeError(`Cannot accept file name: expected a string, got ${typeof name}`);
  }
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  const refuse = (why: string) => new TypeError(`Cannot accept file name ${shown}: ${why}`);
  if (name.length === 0) throw refuse("it is empty");
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_FILE_NAME_BYTES) {
    throw refuse(`it is ${bytes} bytes long, over the limit of ${MAX_FILE_NAME_BYTES}`);
  }
  if (/[/\\]/.test(name)) throw refuse("it contains a path separator (send a name, not a path)");
  if (name.startsWith(".")) throw refuse("it starts with '.' (no '..', no hidden files)");
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw refuse("it contains a control character");
  if (name.includes(":")) throw refuse("it contains ':'");
  if (/[ .]$/.test(name)) throw refuse("it ends with a space or a dot");
  return name;
}
