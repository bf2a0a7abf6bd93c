/**
 * Putting a verified `.part` file under its real name, so that a file under
 * its real name is always complete.
 *
 * @module
 */

/** True if something (a file, a directory, a dangling link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Moves `partPath` to `finalPath`. Without `overwrite`, an existing
 * `finalPath` is left alone.
 *
 * @returns `false` if `finalPath` was taken (and `overwrite` is off); `partPath` then remains.
 */
export async function placeFile(
  partPath: string,
  finalPath: string,
  overwrite: boolean,
): Promise<boolean> {
  if (overwrite) {
    await Deno.rename(partPath, finalPath);
    return true;
  }
  // link() fails if the name appeared meanwhile (another process),
  // where rename() would silently replace it.
  let linked = false;
  let taken = false;
  try {
    await Deno.link(partPath, finalPath);
    linked = true;
  } catch (error) {
    taken = error instanceof Deno.errors.AlreadyExists || await exists(finalPath);
  }
  if (taken) return false;
  // Without hard links (some file systems), fall back to rename.
  if (linked) await Deno.remove(partPath);
  else await Deno.rename(partPath, finalPath);
  return true;
}
