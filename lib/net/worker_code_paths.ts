/**
 * The files a {@linkcode WorkerPool}'s workers load their code from, for its
 * `codePaths` option: a script run from source needs `lib/` too, a bundle is
 * one file.
 *
 * @module
 */

/**
 * Lists the code a worker module needs on disk: the module itself and, when it is a `.ts`
 * source (not a bundle from `deno task bundle`), the `lib/` folder it imports from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workerCodePaths } from "./worker_code_paths.ts";
 *
 * const source = workerCodePaths("file:///app/scripts/tcp_echo_server.ts");
 * assert.equal(source.length, 2);
 * assert.equal(source[0]!.href, "file:///app/scripts/tcp_echo_server.ts");
 * assert.ok(source[1]!.href.endsWith("/lib/"));
 * assert.deepEqual(workerCodePaths("file:///app/tcp_echo_server.js").map(String), [
 *   "file:///app/tcp_echo_server.js",
 * ]);
 * ```
 *
 * @param moduleUrl The worker module's URL (a script's `import.meta.url`).
 * @returns The URLs to pass as `codePaths`.
 * @throws {TypeError} If `moduleUrl` is not a URL.
 */
export function workerCodePaths(moduleUrl: string | URL): URL[] {
  const url = new URL(moduleUrl);
  // The sources load lib/ too; a bundle (`deno task bundle`) is one file.
  return url.pathname.endsWith(".ts") ? [url, new URL("../", import.meta.url)] : [url];
}
