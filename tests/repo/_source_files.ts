/**
 * Walks the project's own source folders for the repository tests, which
 * read code as text (no sockets).
 *
 * @module
 */
import { join, relative } from "node:path";

/** The project root, two folders above this file. */
export const ROOT: string = join(import.meta.dirname!, "..", "..");

/**
 * Lists the `.ts` and `.js` files under `dir` (relative to the root),
 * skipping git-ignored output folders.
 *
 * @param dir A folder relative to the project root, such as `"lib"`.
 * @returns Paths relative to the root with `/` separators, sorted.
 */
export async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(path: string): Promise<void> {
    for await (const entry of Deno.readDir(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) {
        if (IGNORED_DIRS.has(entry.name)) continue;
        await walk(full);
      } else if (/\.(ts|js)$/.test(entry.name)) {
        found.push(relative(ROOT, full).replaceAll("\\", "/"));
      }
    }
  }
  await walk(join(ROOT, dir));
  return found.sort();
}

/** Folders that hold generated files (git-ignored), not source. */
const IGNORED_DIRS = new Set(["bundled", "output", "node_modules"]);
