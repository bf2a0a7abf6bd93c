/**
 * Test helper: the one place tests spawn processes. {@linkcode startScript}
 * runs one of the project's scripts, waits for its `listening on` line (read
 * with `parseListeningLine`, the same reader the benches and the demo use) and
 * stops it cleanly; {@linkcode spawn} runs any program (nc, socat, a script
 * that is not a server) and collects its output as text.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import { parseListeningLine } from "../../lib/net/net_addr.ts";

/** The project root: children run here, so scripts pick up deno.json. */
export const ROOT: string = join(import.meta.dirname!, "..", "..");

/** Spawns `command` in the project root with piped output and no colour. */
function spawnChild(
  command: string,
  args: string[],
  options: { stdin?: "piped" | "null"; env?: Record<string, string>; cwd?: string } = {},
): Deno.ChildProcess {
  return new Deno.Command(command, {
    args,
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
}

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
  /** The working directory, default: the project root. */
  cwd?: string;
  /** A command that runs the runtime, e.g. `["bash", "-c", 'ulimit -n 40; exec "$@"', "bash"]`. */
  prefix?: string[];
}

/** Path of a script under scripts/, as a file URL path. */
export function scriptPath(name: string): string {
  return join(import.meta.dirname!, "..", "..", "scripts", name);
}

/**
 * Spawns `deno run <flags> scripts/<name> <args>` (or an absolute path, such
 * as a bundled copy) and waits for its `listening on` line.
 */
export async function startScript(
  name: string,
  args: string[],
  options: StartScriptOptions = {},
): Promise<ScriptProcess> {
  const [command, ...prefixArgs] = options.prefix ?? [Deno.execPath()];
  const child = spawnChild(command!, [
    ...(options.prefix ? [...prefixArgs, Deno.execPath()] : []),
    "run",
    ...(options.denoFlags ?? ["--allow-net=127.0.0.1,[::1]"]),
    isAbsolute(name) ? name : scriptPath(name),
    ...args,
  ], { stdin: options.stdin, env: options.env, cwd: options.cwd });

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
      const listening = parseListeningLine(await waitForLine(/^listening on /))!;
      hostname = listening.hostname;
      port = listening.port;
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
  const child = spawnChild(Deno.execPath(), [
    "run",
    ...(options.denoFlags ?? ["--allow-net=127.0.0.1,[::1]"]),
    scriptPath(name),
    ...args,
  ], { stdin: options.stdin ? "piped" : "null", env: options.env });
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

/** Collects a stream's text and lets a test wait until it contains something. */
export class TextCollector {
  text = "";
  /** Resolves when the stream ends. */
  readonly done: Promise<void>;
  #waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.text += chunk;
        this.#waiters = this.#waiters.filter(({ pattern, resolve }) => {
          const match = this.text.match(pattern);
          if (match) resolve(match);
          return !match;
        });
      }
    })();
  }

  /** Resolves with the first match of `pattern`, or rejects after `ms` or at the end of the stream. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const match = this.text.match(pattern);
    if (match) return match;
    const { promise, resolve } = Promise.withResolvers<RegExpMatchArray>();
    this.#waiters.push({ pattern, resolve });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failure = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${pattern} in: ${this.text}`)),
        ms,
      );
      this.done.then(() =>
        reject(new Error(`stream ended without ${pattern}; it said: ${this.text}`))
      );
    });
    try {
      return await Promise.race([promise, failure]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A spawned process with its output collected. */
export interface Spawned {
  child: Deno.ChildProcess;
  stdout: TextCollector;
  stderr: TextCollector;
  /** Waits for the exit and for all output. */
  finish(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Spawns a program with piped stdio and collects its output. */
export function spawn(command: string, args: string[], stdin: "piped" | "null" = "null"): Spawned {
  const child = spawnChild(command, args, { stdin });
  const stdout = new TextCollector(child.stdout);
  const stderr = new TextCollector(child.stderr);
  return {
    child,
    stdout,
    stderr,
    async finish() {
      const [status] = await Promise.all([child.status, stdout.done, stderr.done]);
      return { code: status.code, stdout: stdout.text, stderr: stderr.text };
    },
  };
}

/**
 * Spawns one of our scripts with `deno run --unstable-net` and the given
 * permissions, collecting its output as text (for scripts that are not
 * servers, or whose output a test matches across lines). Servers:
 * {@linkcode startScript}.
 */
export function spawnScript(
  script: string,
  args: string[],
  options: { allowNet?: string; stdin?: "piped" | "null" } = {},
): Spawned {
  return spawn(Deno.execPath(), [
    "run",
    "--unstable-net",
    `--allow-net=${options.allowNet ?? "127.0.0.1"}`,
    `scripts/${script}`,
    ...args,
  ], options.stdin ?? "null");
}

/** Writes `text` to a child's stdin and closes it. */
export async function writeAndClose(child: Deno.ChildProcess, text: string): Promise<void> {
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
}
