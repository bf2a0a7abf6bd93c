/**
 * Test helper: the real `telnet` client on a pseudo-terminal, driven like a
 * user at a keyboard. `script` gives telnet a pty; what we write to script's
 * stdin is typed on it, so Ctrl+C (`\x03`) goes through the terminal's line
 * discipline and telnet turns it into `IAC IP IAC DO TIMING-MARK`, exactly
 * as for a person.
 *
 * @module
 */

import { missingTool } from "./external_tool.ts";

/** True if `telnet` and `script` (util-linux) are present; under CI=true, absent is an error. */
export async function haveTelnetPty(): Promise<boolean> {
  return !(await missingTool("telnet", ["-?"])) && !(await missingTool("script", ["--version"]));
}

/** A telnet session on a pty. */
export class TelnetPty implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #output = "";
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pump: Promise<void>;
  #waiters = new Set<() => void>();
  #exited = false;

  private constructor(child: Deno.ChildProcess) {
    this.child = child;
    this.#writer = child.stdin.getWriter();
    this.#pump = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stdout) {
        this.#output += decoder.decode(chunk, { stream: true });
        for (const wake of this.#waiters) wake();
      }
    })().catch(() => {}).finally(() => {
      this.#exited = true;
      for (const wake of this.#waiters) wake();
    });
  }

  /**
   * Starts `telnet host port` on a pty and waits until it says it is connected.
   *
   * @param port The server's port.
   * @param host The server's address (loopback).
   */
  static async open(port: number, host = "127.0.0.1"): Promise<TelnetPty> {
    const child = new Deno.Command("script", {
      // -q quiet, -f flush at once, -e telnet's exit status, -c the command; no typescript file.
      args: ["-qfec", `telnet ${host} ${port}`, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { TERM: "dumb" },
    }).spawn();
    const session = new TelnetPty(child);
    try {
      await session.waitFor(/Escape character is/);
    } catch (error) {
      await session[Symbol.asyncDispose]();
      throw error;
    }
    return session;
  }

  /** Everything telnet printed so far (the terminal's view, with its echo). */
  get output(): string {
    return this.#output;
  }

  /** Types `text` on the terminal (no Enter). */
  async type(text: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(text));
  }

  /** Types a line and presses Enter (the terminal sends CR; telnet sends CR LF). */
  async typeLine(text: string): Promise<void> {
    await this.type(`${text}\r`);
  }

  /** Presses Ctrl+C. */
  async ctrlC(): Promise<void> {
    await this.type("\x03");
  }

  /**
   * Resolves with the output from `from` on once it matches `pattern`.
   *
   * @param pattern What to wait for.
   * @param from Offset in {@linkcode TelnetPty.output} to search from (default 0).
   * @param timeoutMs How long to wait before failing with what was seen.
   */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<string> {
    const { promise, resolve, reject } = Promise.withResolvers<string>();
    const check = () => {
      const seen = this.#output.slice(from);
      if (pattern.test(seen)) resolve(seen);
      else if (this.#exited) reject(new Error(`telnet exited before ${pattern}; output:\n${seen}`));
    };
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `No ${pattern} from telnet within ${timeoutMs} ms; output:\n${
              this.#output.slice(from)
            }`,
          ),
        ),
      timeoutMs,
    );
    this.#waiters.add(check);
    try {
      check();
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(check);
    }
  }

  /** Ends the session: kills telnet's pty and waits for everything to finish. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#writer.close().catch(() => {});
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.child.status;
    await this.#pump;
  }
}
