// onShutdownSignal against real signals sent to a real child process.
import assert from "node:assert/strict";
import { join } from "node:path";

const FIXTURE = join(import.meta.dirname!, "..", "fixtures", "stop_then_signal.ts");

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`a copy of ${signal} that arrives after the server stopped listening does not kill it`, async () => {
    // `deno task` forwards the signal it got to its child, which may already have had the
    // terminal's (or killpg's) copy and finished shutting down: the late copy must be swallowed,
    // not take the default action (exit 130 or 143 after a clean shutdown).
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-lock", FIXTURE],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = new Response(child.stderr).text();
    let seen = "";
    const waitFor = async (line: string) => {
      while (!seen.split("\n").includes(line)) {
        const { value, done } = await stdout.read();
        assert.ok(!done, `stdout ended before "${line}": ${seen}`);
        seen += value;
      }
    };
    await waitFor("ready");
    child.kill(signal);
    await waitFor("stopped");
    child.kill(signal);
    // The fixture exits 0 once its stdin closes, if the second signal did not end it first.
    await child.stdin.close();
    while (!(await stdout.read()).done) { /* drain */ }
    const status = await child.status;
    assert.equal(status.code, 0, `exit ${status.code} (${status.signal}): ${await stderr}`);
  });
}
