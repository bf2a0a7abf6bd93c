/**
 * Test helper: run a server script under a real, low open-file limit
 * (`ulimit -n`), flood it past that limit, and let the flood go.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ScriptProcess } from "./script_process.ts";

/** The line `serveTcp` logs each time `accept()` runs out of descriptors. */
export const EMFILE_LINE =
  /accept failed: Too many open files.*\((\d+) sockets open.*serving at most (\d+).*pausing accepts for (\d+) ms/;

/**
 * A `startScript` prefix that runs the runtime under `ulimit -n limit`.
 *
 * @param limit The open-file limit for the server process.
 * @returns The prefix command.
 */
export function ulimitPrefix(limit: number): string[] {
  return ["bash", "-c", `ulimit -n ${limit} && exec "$@"`, "bash"];
}

/** What the server logged while out of descriptors. */
export interface EmfileEpisode {
  /** The socket counts (ceilings) of every EMFILE line so far. */
  ceilings: number[];
  /** The limits the server said it would serve, from the same lines. */
  limits: number[];
}

/** Reads the ceilings and limits out of the server's EMFILE lines. */
export function emfileEpisode(server: ScriptProcess): EmfileEpisode {
  const matches = server.stderr.map((line) => line.match(EMFILE_LINE)).filter((m) => m !== null);
  return {
    ceilings: matches.map((m) => Number(m![1])),
    limits: matches.map((m) => Number(m![2])),
  };
}

/**
 * Opens `count` connections to the server, more than its descriptors allow,
 * waits until it has logged running out, then closes them all.
 *
 * @param server The server, started with {@linkcode ulimitPrefix}.
 * @param count How many connections to open.
 */
export async function floodPastDescriptorLimit(
  server: ScriptProcess,
  count: number,
): Promise<void> {
  const flood: Deno.Conn[] = [];
  try {
    // The kernel completes the handshakes the server cannot accept yet and
    // queues them, so every connect succeeds.
    for (let i = 0; i < count; i++) {
      flood.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
    }
    await server.waitForLine(EMFILE_LINE);
  } finally {
    for (const conn of flood) conn.close();
  }
}

/**
 * Sends probes, one after another, until one is served. The connections the
 * flood left in the listen queue are accepted before a probe (the queue is
 * first in, first out) and, though already closed, count as served until
 * their handler has seen them end: a probe that arrives during that burst
 * may be refused, the next one not. Bounded: fails after `attempts` refusals.
 *
 * @param probe Connects once; resolves to true if served, false if refused.
 * @param attempts The most probes to send.
 */
export async function waitUntilServed(
  probe: () => Promise<boolean>,
  attempts = 50,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return;
  }
  assert.fail(`${attempts} probes in a row were refused`);
}

/**
 * Runs `serveOne` for `count` clients at once and asserts every one was served.
 *
 * @param count How many clients.
 * @param serveOne Connects as client `i` and resolves to true if it was served normally.
 */
export async function assertAllServed(
  count: number,
  serveOne: (i: number) => Promise<boolean>,
): Promise<void> {
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => serveOne(i)));
  const failed = results
    .map((r, i) =>
      r.status === "fulfilled" ? (r.value ? null : `#${i}: refused`) : `#${i}: ${r.reason}`
    )
    .filter((r) => r !== null);
  assert.deepEqual(failed, [], `${failed.length} of ${count} clients were not served`);
}
