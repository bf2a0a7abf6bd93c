/**
 * The `deno task` entries, as a user runs them.
 *
 * Regression (newcomer trial B9): the tasks' `--allow-net` lists differed
 * (only ws-client allowed `localhost`, none allowed `[::1]`), so
 * `deno task echo-client --host localhost` or `--host ::1` was refused with
 * advice a task user could not act on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../helpers/script_process.ts";

const LOOPBACK = "127.0.0.1,localhost,[::1]";
const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))) as {
  tasks: Record<string, string>;
};

Deno.test("every task whose script takes --host allows exactly the three loopback names", async () => {
  const checked: string[] = [];
  for (const [task, command] of Object.entries(config.tasks)) {
    if (!command.startsWith("deno run ")) continue; // bundle, bench: not running a script
    const script = command.match(/ (scripts\/[\w/]+\.ts)\b/)?.[1];
    if (!script || script.startsWith("scripts/bench/")) continue;
    const source = await Deno.readTextFile(join(ROOT, script));
    if (!/--host|listen\w*Options\(|connectOptions\(/.test(source)) continue;
    assert.equal(command.match(/--allow-net=(\S+)/)?.[1], LOOPBACK, `task ${task}`);
    checked.push(task);
  }
  assert.ok(checked.includes("echo-server") && checked.includes("udp-client"), String(checked));
});

Deno.test("deno task echo-server --host ::1 listens on [::1] and echoes", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "echo-server", "--host", "::1", "--port", "0"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let match;
    while (!(match = text.match(/listening on \[::1\]:(\d+)\n/))) {
      const { value, done } = await reader.read();
      assert.ok(!done, `no listening line: ${text}`);
      text += value;
    }
    using conn = await Deno.connect({ hostname: "::1", port: Number(match[1]) });
    await conn.write(new TextEncoder().encode("six"));
    const reply = new Uint8Array(3);
    assert.equal(await conn.read(reply), 3);
    assert.equal(new TextDecoder().decode(reply), "six");
    reader.releaseLock();
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
});
