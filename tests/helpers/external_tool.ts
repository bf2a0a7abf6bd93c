/**
 * Test helper: the one place that decides whether an external tool (nc,
 * socat, chromium, python3 with a module) is there, and what a test does
 * when it is not.
 *
 * A test that did not run must not be reported `ok`: a test that needs a tool
 * declares `ignore: await missingTool(...)`, so on a machine without it the
 * test shows as ignored. Under `CI=true` a missing tool fails instead, because
 * .ci/run installs them all.
 *
 * ```ts ignore
 * const NO_NC = await missingTool("nc", ["-h"]);
 * Deno.test("our server talks to nc", { ignore: NO_NC }, async () => {...});
 * ```
 *
 * @module
 */

/** True when running under CI, where every interop tool must be present. */
export const IN_CI = Deno.env.get("CI") === "true";

const cache = new Map<string, boolean>();
const reportedMissing = new Set<string>();

/**
 * Reports whether running the tool with `probeArgs` succeeds (exit 0).
 * Results are cached per command line.
 *
 * @param command The executable, on PATH or as a path.
 * @param probeArgs Arguments for a harmless run that exits 0 when the tool
 *   works (`["-c", "import websockets"]` checks a Python module too).
 * @returns Whether the tool is there and works.
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
 * The `ignore:` value for a test that needs a tool: `true` (ignored) when the
 * tool is missing on a developer machine. Under `CI=true` it returns `false`
 * so the test runs and fails, and it also registers one failing test that
 * names the tool, so the cause is the first thing in the report.
 *
 * @param command The executable, on PATH or as a path.
 * @param probeArgs Arguments for a harmless run that exits 0 when it works.
 * @returns Whether to ignore the test.
 */
export async function missingTool(
  command: string,
  probeArgs: string[] = ["-h"],
): Promise<boolean> {
  return ignoreUnless(`${command} ${probeArgs.join(" ")}`, await hasTool(command, probeArgs));
}

/**
 * The `ignore:` value for a test that needs something a probe found present
 * or not (a tool, a cached download): the same rule as
 * {@linkcode missingTool}, for a check of your own.
 *
 * @param what What is needed, as the failing test under CI names it.
 * @param present Whether it is there.
 * @returns Whether to ignore the test.
 */
export function ignoreUnless(what: string, present: boolean): boolean {
  if (present) return false;
  if (!IN_CI) return true;
  if (!reportedMissing.has(what)) {
    reportedMissing.add(what);
    Deno.test(`${what} works, as CI=true requires (.ci/run installs it)`, () => {
      throw new Error(`${what} failed or is not installed; CI=true needs every interop tool`);
    });
  }
  return false;
}
