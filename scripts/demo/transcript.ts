/**
 * The demo's transcript helpers: start a script as a child process of this runtime, show the
 * exact command and what it printed, and check the answer. Used by every section of
 * `scripts/demo.ts`.
 *
 * @module
 */

import { join } from "node:path";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import { parseListeningLine } from "../../lib/net/net_addr.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();
export const SCRIPTS = join(import.meta.dirname!, "..");
export const NET = "--allow-net=127.0.0.1";

/** A server started for the demo. */
export interface DemoServer {
  port: number;
  /** Stops it with SIGINT and returns its last stderr lines. */
  stop(): Promise<string[]>;
}

export function show(command: string): void {
  console.log(`\n$ ${command}`);
}

export function indent(text: string): void {
  for (const line of text.replace(/\n$/, "").split("\n")) console.log(`  ${line}`);
}

/** Starts `deno run <flags> scripts/<script> <args>` and waits for its `listening on` line. */
export async function startServer(
  script: string,
  flags: string[],
  args: string[],
): Promise<DemoServer> {
  show(`deno run ${flags.join(" ")} scripts/${script} ${args.join(" ")} &`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, join(SCRIPTS, script), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderrLines: string[] = [];
  const stderrDone = (async () => {
    const lines = new LineDecoder();
    for await (const chunk of child.stderr) {
      lines.push(chunk);
      for (let line; (line = lines.next()) !== null;) stderrLines.push(line);
    }
  })();
  const stdoutLines = new LineDecoder();
  const reader = child.stdout.getReader();
  let port = 0;
  const deadline = setTimeout(() => child.kill(), 10_000);
  try {
    while (port === 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${script} exited before listening:\n${stderrLines.join("\n")}`);
      stdoutLines.push(value);
      for (let line; (line = stdoutLines.next()) !== null;) {
        indent(line);
        // The first `listening on` line is the main port (a server may print more).
        const listening = parseListeningLine(line);
        if (listening && port === 0) port = listening.port;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  const stdoutDone = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    port,
    async stop() {
      child.kill("SIGINT");
      const status = await child.status;
      await Promise.all([stdoutDone, stderrDone]);
      if (status.code !== 0) throw new Error(`${script} exited with ${status.code}`);
      return stderrLines;
    },
  };
}

/** Runs a client script to completion, shows its output, returns its stdout. */
export async function runClient(
  script: string,
  flags: string[],
  args: string[],
  stdin?: string,
): Promise<string> {
  const quoted = args.map((arg) => /[\s'"]/.test(arg) ? `'${arg}'` : arg).join(" ");
  const input = stdin === undefined ? "" : `printf '${stdin.replaceAll("\n", "\\n")}' | `;
  show(`${input}deno run ${flags.join(" ")} scripts/${script} ${quoted}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, join(SCRIPTS, script), ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const text = decoder.decode(output.stdout);
  if (text) indent(text);
  if (!output.success) {
    throw new Error(`${script} exited with ${output.code}: ${decoder.decode(output.stderr)}`);
  }
  return text;
}

export function expect(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export function lineReader(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let wake = () => {};
  let ended = false;
  (async () => {
    const decoder = new LineDecoder();
    for await (const chunk of stream) {
      decoder.push(chunk);
      for (let line; (line = decoder.next()) !== null;) lines.push(line);
      wake();
    }
  })().catch(() => {}).finally(() => {
    ended = true;
    wake();
  });
  let read = 0;
  return {
    next(pattern: RegExp): Promise<string> {
      return withTimeout(
        (async () => {
          for (;;) {
            while (read < lines.length) {
              const line = lines[read++]!;
              if (pattern.test(line)) return line;
            }
            if (ended) throw new Error(`output ended before a line matching ${pattern}`);
            await new Promise<void>((resolve) => wake = resolve);
          }
        })(),
        `a line matching ${pattern}`,
      );
    },
  };
}

/** Rejects if `promise` takes more than 10 s. */
export async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
