/**
 * Test helper: find an external tool (nc, socat, chromium, python3 with a
 * module) or decide to skip. Under `CI=true` a missing tool is a failure,
 * because .ci/run installs them all.
 *
 * @module
 */

/** True when running under CI, where every interop tool must be present. */
export const IN_CI = Deno.env.get("CI") === "true";

const cache = new Map<string, boolean>();

/**
 * Reports whether `command --version`-like probing finds the tool.
 *
 * @param command The executable.
 * @param probeArgs Arguments for a harmless run that exits 0 when the tool works.
 */
export async function hasTool(command: string, probeArgs: string[] = ["-h"]): Promise<boolean> {
  const key = `${command} ${probeArgs.join(" ")}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  let ok = false;
  try {
    const { success } = await new Deno.Command(command, {
      args: probeArgs,
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).output();
    ok = success;
  } catch {
    ok = false;
  }
  cache.set(key, ok);
  return ok;
}

/**
 * Returns whether a test needing `command` should run: true if present; false
 * (skip, with a note) if absent on a developer machine; throws under CI.
 */
export async function requireTool(command: string, probeArgs: string[] = ["-h"]): Promise<boolean> {
  if (await hasTool(command, probeArgs)) return true;
  if (IN_CI) throw new Error(`${command} is required under CI=true (.ci/run installs it)`);
  console.warn(`skipping: ${command} is not installed`);
  return false;
}
