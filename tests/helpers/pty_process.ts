/**
 * Test helper: run a command on a pseudo-terminal (through
 * `tests/helpers/pty_run.py` and `/usr/bin/python3`) and press Ctrl+C the way
 * a user does: the terminal's line discipline signals the whole foreground
 * process group, so `deno task` and the script it runs both get SIGINT.
 *
 * @module
 */

import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import { join } from "node:path";
import { missingTool } from "./external_tool.ts";

/** The Python that runs the pty helper (Debian's, see NOTES.md). */
export const PYTHON = "/usr/bin/python3";

/**
 * True when pty tests cannot run here (no `/usr/bin/python3`); for `ignore:`.
 * Under `CI=true` this is false, so a missing python fails the test instead.
 */
export const NO_PTY = await missingTool(PYTHON, ["-c", "import pty"]);

/** A command running on a pseudo-terminal. */
export interface PtyProcess extends AsyncDisposable {
  /** Every line the terminal showed so far (stdout and stderr, merged). */
  lines: string[];
  /** Resolves with the first line matching `pattern` (already seen or still to come). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Presses Ctrl+C once. */
  pressCtrlC(): Promise<void>;
  /** Sends SIGTERM to the terminal's foreground process group. */
  sendSigterm(): Promise<void>;
  /** The command's exit code (128 + N if signal N killed it). */
  status: Promise<number>;
}

/**
 * Starts `command args` on a new pseudo-terminal in the project directory.
 *
 * @param command The program, e.g. `Deno.execPath()`.
 * @param args Its arguments, e.g. `["task", "echo-server", "--port", "0"]`.
 * @returns The running process; dispose of it to kill it if still running.
 */
export function startOnPty(command: string, args: string[]): PtyProcess {
  const child = new Deno.Command(PYTHON, {
    args: [join(import.meta.dirname!, "pty_run.py"), command, ...args],
    cwd: join(import.meta.dirname!, "..", ".."),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const keys = child.stdin.getWriter();
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const pump = (async () => {
    const decoder = new LineDecoder({ maxLineLength: 1 << 20 });
    const take = () => {
      for (let line; (line = decoder.next()) !== null;) {
        line = line.replace(/\r$/, "");
        lines.push(line);
        for (const waiter of waiters) {
          if (waiter.pattern.test(line)) {
            waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
      }
    };
    for await (const chunk of child.stdout) {
      decoder.push(chunk);
      take();
    }
    decoder.end();
    take();
  })();
  const status = Promise.all([child.status, pump]).then(([s]) => s.code);
  let exited = false;
  status.then(() => exited = true, () => {});

  const waitForLine = async (pattern: RegExp, timeoutMs = 20_000) => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return seen;
    const { promise, resolve, reject } = Promise.withResolvers<string>();
    const waiter = { pattern, resolve };
    waiters.add(waiter);
    const timer = setTimeout(() => reject(new Error(`No line matching ${pattern}`)), timeoutMs);
    status.then(() => {
      if (waiters.delete(waiter)) reject(new Error(`Exited before a line matching ${pattern}`));
    });
    try {
      return await promise;
    } catch (error) {
      throw new Error(`${(error as Error).message}; the terminal showed:\n${lines.join("\n")}`);
    } finally {
      waiters.delete(waiter);
      clearTimeout(timer);
    }
  };

  return {
    lines,
    waitForLine,
    pressCtrlC: () => keys.write(new TextEncoder().encode("ctrl-c\n")),
    sendSigterm: () => keys.write(new TextEncoder().encode("sigterm\n")),
    status,
    async [Symbol.asyncDispose]() {
      await keys.close().catch(() => {});
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      await status.catch(() => {});
    },
  };
}
