/**
 * A start-up check for a server that saves files: the directory exists and this process may
 * create files in it, so a wrong `--dir` fails at once instead of at the first upload.
 *
 * @module
 */

/** Options for {@linkcode ensureWritableDir}. */
export interface EnsureWritableDirOptions {
  /**
   * The flag that chose the directory, for the messages.
   *
   * @default {"--dir"}
   */
  flag?: string;
}

/**
 * Creates `dir` if it is missing, then creates and removes a probe file in it: Deno's
 * permission is checked first, then the system's.
 *
 * @param dir The directory.
 * @param options The flag to name in messages.
 * @returns Once a file could be created in `dir`.
 * @throws {Error} If it cannot be used; the message says why and how to fix it, e.g.
 *   `cannot use --dir received: run with --allow-read=received --allow-write=received`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureWritableDir } from "./ensure_writable_dir.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await ensureWritableDir(`${dir}/files`);
 * assert.equal((await Deno.stat(`${dir}/files`)).isDirectory, true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function ensureWritableDir(
  dir: string,
  options: EnsureWritableDirOptions = {},
): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.stat(dir);
    const probe = `${dir}/.file_receive-probe-${crypto.randomUUID()}`;
    await Deno.writeFile(probe, new Uint8Array(0), { createNew: true });
    await Deno.remove(probe);
  } catch (error) {
    const flag = options.flag ?? "--dir";
    const advice = error instanceof Deno.errors.NotCapable
      ? `run with --allow-read=${dir} --allow-write=${dir}`
      : error instanceof Deno.errors.PermissionDenied
      ? `cannot create files in it (${
        (error as Error).message.replace(/:.*/, "")
      }): fix its permissions or choose another ${flag}`
      : (error as Error).message;
    throw new Error(`cannot use ${flag} ${dir}: ${advice}`, { cause: error });
  }
}
