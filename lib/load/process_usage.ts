/**
 * CPU time and memory of another process, for benchmarks that must show
 * which side (server or load client) was the bottleneck.
 *
 * Linux only: it reads `/proc/PID/stat` and `/proc/PID/status` through
 * `cat`, because the runtime grants reads under `/proc` only with
 * `--allow-all`, while `--allow-run=cat` is narrow.
 *
 * @module
 */

/** A process's resource use at one moment. */
export interface ProcessUsage {
  /** User plus system CPU time consumed so far, in seconds. */
  cpuSeconds: number;
  /** Resident memory now, in bytes. */
  rssBytes: number;
}

/** Linux's USER_HZ: the unit of the CPU times in `/proc/PID/stat`. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Reads a process's CPU time and resident memory.
 *
 * @param pid The process id (for example `child.pid`).
 * @returns CPU seconds and RSS bytes.
 * @throws {Error} If the process does not exist or this is not Linux.
 *
 * @example
 * ```ts ignore
 * import { readProcessUsage } from "./process_usage.ts";
 *
 * const before = await readProcessUsage(server.pid);
 * // ... run load ...
 * const after = await readProcessUsage(server.pid);
 * console.log(`server CPU: ${(after.cpuSeconds - before.cpuSeconds).toFixed(2)} s`);
 * ```
 */
export async function readProcessUsage(pid: number): Promise<ProcessUsage> {
  const { success, stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`, `/proc/${pid}/status`],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!success) {
    throw new Error(`Cannot read the usage of process ${pid}: is it running (Linux only)?`);
  }
  const text = new TextDecoder().decode(stdout);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = text.slice(text.indexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  const rssKb = Number(text.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? NaN);
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
}
