/**
 * Test helper: run one of the project's scripts as a child process, wait
 * for its `listening on HOST:PORT` line, and stop it cleanly.
 *
 * @module
 */

import { join } from "node:path";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";

/** A running script. */
export interface ScriptProcess extends AsyncDisposable {
  /** The child process. */
  child: Deno.ChildProcess;
  /** The port from the first `listening on` line. */
  port: number;
  /** The host from the first `listening on` line (no brackets). */
  hostname: string;
  /** Every stdout line so far (the reader keeps draining stdout). */
  stdout: string[];
  /** Every stderr line so far. */
  stderr: string[];
  /**
   * Resolves when `occurrence` stdout or stderr lines matching `pattern` have
   * appeared (default 1), with the last of them.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number, occurrence?: number): Promise<string>;
  /** How many stdout and stderr lines so far match `pattern`. */
  countLines(pattern: RegExp): number;
  /** Sends SIGINT and resolves to the exit status. */
  interrupt(): Promise<Deno.CommandStatus>;
}

/** Options for {@linkcode startScript}. */
export interface StartScriptOptions {
  /** Runtime flags before the script path, default: `--allow-net=127.0.0.1,[::1]`. */
  denoFlags?: string[];
  /** Wait for a `listening on` line (servers); default true. */
  waitForListening?: boolean;
  /** How long to wait for it, default 10 s. */
  timeoutMs?: number;
  /** Give stdin as a pipe (closed by the caller) instead of null. */
  stdin?: "piped" | "null";
  /** Extra environment. */
  env?: Record<string, string>;
  /** A command that runs the runtime, e.g. `["bash", "-c", 'ulimit -n 40; exec "$@"', "bash"]`. */
  prefix?: string[];
}

/** Path of a script under scripts/, as a file URL path. */
export function scriptPath(name: string): string {
  return join(import.meta.dirname!, "..", "..", "scripts", name);
}

/**
 * Spawns `deno run <flags> scripts/<name> <args>` and waits for its
 * `listening on` line.
 */
export async function startScript(
  name: string,
  args: string[],
  options: StartScriptOptions = {},
): Promise<ScriptProcess> {
  const [command, ...prefixArgs] = options.prefix ?? [Deno.execPath()];
  const child = new Deno.Command(command!, {
    args: [
      ...(options.prefix ? [...prefixArgs, Deno.execPath()] : []),
      "run",
      ...(options.denoFlags ?? ["--allow-net=127.0.0.1,[::1]"]),
      scriptPath(name),
      ...args,
    ],
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();

  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; remaining: number; resolve: (line: string) => void }[] = [];
  const onLine = (into: string[]) => (line: string) => {
    into.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line) && --waiter.remaining === 0) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  const countLines = (pattern: RegExp) =>
    [...stdout, ...stderr].filter((l) => pattern.test(l)).length;
  const pump = async (stream: ReadableStream<Uint8Array>, handle: (line: string) => void) => {
    const decoder = new LineDecoder({ maxLineLength: 1 << 20 });
    for await (const chunk of stream) {
      decoder.push(chunk);
      for (let line; (line = decoder.next()) !== null;) handle(line);
    }
    decoder.end();
    for (let line; (line = decoder.next()) !== null;) handle(line);
  };
  const pumps = Promise.all([
    pump(child.stdout, onLine(stdout)),
    pump(child.stderr, onLine(stderr)),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  const waitForLine = async (
    pattern: RegExp,
    timeoutMs = options.timeoutMs ?? 10_000,
    occurrence = 1,
  ) => {
    const seen = [...stdout, ...stderr].filter((line) => pattern.test(line));
    if (seen.length >= occurrence) return seen[occurrence - 1]!;
    const { promise, resolve, reject } = Promise.withResolvers<string>();
    const waiter = { pattern, remaining: occurrence - seen.length, resolve };
    waiters.push(waiter);
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(waiter), 1);
      reject(
        new Error(
          `No line matching ${pattern} from ${name} within ${timeoutMs} ms` +
            `\nstdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`,
        ),
      );
    }, timeoutMs);
    // If the process exits first, fail at once instead of waiting out the timer.
    status.then(() => pumps).then(() => {
      if (waiters.includes(waiter)) {
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `${name} exited before printing ${pattern}\nstdout:\n${stdout.join("\n")}\nstderr:\n${
              stderr.join("\n")
            }`,
          ),
        );
      }
    });
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
    }
  };

  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await status;
    await pumps;
  };

  let hostname = "";
  let port = 0;
  if (options.waitForListening ?? true) {
    try {
      const line = await waitForLine(/listening on /);
      const match = line.match(/listening on (?:\w+:\/\/)?(?:\[([^\]]+)\]|([^\s:\/]+)):(\d+)/);
      if (!match) throw new Error(`Cannot parse the listening line: ${line}`);
      hostname = match[1] ?? match[2]!;
      port = Number(match[3]);
    } catch (error) {
      await stop();
      throw error;
    }
  }

  return {
    child,
    port,
    hostname,
    stdout,
    stderr,
    waitForLine,
    countLines,
    async interrupt() {
      if (!exited) child.kill("SIGINT");
      const result = await status;
      await pumps;
      return result;
    },
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/**
 * Runs a script to completion with optional stdin bytes.
 */
export async function runScript(
  name: string,
  args: string[],
  options: { denoFlags?: string[]; stdin?: Uint8Array; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(options.denoFlags ?? ["--allow-net=127.0.0.1,[::1]"]),
      scriptPath(name),
      ...args,
    ],
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    const writing = writer.write(options.stdin).then(() => writer.close());
    const [output] = await Promise.all([child.output(), writing]);
    return {
      code: output.code,
      stdout: output.stdout,
      stderr: new TextDecoder().decode(output.stderr),
    };
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: output.stdout,
    stderr: new TextDecoder().decode(output.stderr),
  };
}
