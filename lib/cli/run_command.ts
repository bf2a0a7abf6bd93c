/**
 * The exact `deno run ...` command that grants what was missing, for
 * permission advice a user can paste: someone who started a script with
 * `deno task` did not type any `--allow-net` flag to change.
 *
 * @module
 */

/** Where the project's root is: `lib/cli/` is two levels below it. */
const PROJECT_ROOT = new URL("../../", import.meta.url).href;

/** Options for {@linkcode formatRunCommand}. */
export interface RunCommandOptions {
  /**
   * The script to run, as the user should type it.
   *
   * @default {the main module, relative to the project root (`scripts/x.ts`)}
   */
  script?: string;
  /**
   * The script's arguments, quoted for a POSIX shell where needed.
   *
   * @default {Deno.args}
   */
  args?: readonly string[];
}

/**
 * Builds `deno run FLAGS SCRIPT ARGS`, for advice like "permission denied:
 * run deno run --allow-net=127.0.0.2 scripts/tcp_echo_server.ts --host 127.0.0.2".
 *
 * @param flags The runtime flags, in full (`--unstable-net`, `--allow-net=...`).
 * @param options The script and its arguments, when not this process's own.
 * @returns The command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRunCommand } from "./run_command.ts";
 *
 * assert.equal(
 *   formatRunCommand(["--allow-net=[::1]"], {
 *     script: "scripts/tcp_echo_server.ts",
 *     args: ["--host", "::1", "--message", "hi there"],
 *   }),
 *   "deno run --allow-net=[::1] scripts/tcp_echo_server.ts --host ::1 --message 'hi there'",
 * );
 * ```
 */
export function formatRunCommand(
  flags: readonly string[],
  options: RunCommandOptions = {},
): string {
  const script = options.script ?? mainScript();
  const args = (options.args ?? Deno.args).map(shellQuote);
  return ["deno", "run", ...flags, script, ...args].join(" ");
}

function mainScript(): string {
  const main = Deno.mainModule;
  if (main.startsWith(PROJECT_ROOT)) return decodeURIComponent(main.slice(PROJECT_ROOT.length));
  return main.startsWith("file:") ? decodeURIComponent(new URL(main).pathname) : main;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * True when `error`, or the error it wraps (`cause`), is the runtime's
 * refusal for lack of a `--allow-*` permission.
 *
 * @param error Anything caught.
 * @returns Whether a permission flag was missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPermissionError } from "./run_command.ts";
 *
 * const denied = new Deno.errors.NotCapable("Requires net access");
 * assert.ok(isPermissionError(new Error("Cannot listen", { cause: denied })));
 * assert.ok(!isPermissionError(new Deno.errors.AddrInUse("in use")));
 * ```
 */
export function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Error && error.cause instanceof Deno.errors.NotCapable;
}

/**
 * The `--allow-net=...` flag for a list of hosts, IPv6 ones in brackets.
 *
 * @param hosts Host names or addresses, with or without brackets.
 * @returns For example `--allow-net=127.0.0.1,[::1]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowNetFlag } from "./run_command.ts";
 *
 * assert.equal(allowNetFlag(["127.0.0.2", "::1", "[::1]"]), "--allow-net=127.0.0.2,[::1]");
 * ```
 */
export function allowNetFlag(hosts: readonly string[]): string {
  const bracketed = hosts.map((host) =>
    host.includes(":") && !host.startsWith("[") ? `[${host}]` : host
  );
  return `--allow-net=${[...new Set(bracketed)].join(",")}`;
}
