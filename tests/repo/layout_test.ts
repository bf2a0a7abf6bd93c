import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./_source_files.ts";

/** What the project keeps at its top level; everything else goes inside these. */
const TOP_LEVEL = new Set([
  ".ci",
  ".gitignore",
  "README.md",
  "deno.json",
  "lib",
  "scripts",
  "tests",
]);

Deno.test({
  name: "the top level holds only deno.json, README.md, scripts/, lib/, tests/ and .ci/",
  // A copy without git history (a tarball) has no list of tracked files to check.
  ignore: !existsSync(join(ROOT, ".git")),
  async fn() {
    const git = new Deno.Command("git", { args: ["ls-files"], cwd: ROOT, stdout: "piped" });
    const { success, stdout } = await git.output();
    assert.ok(success, "git ls-files failed");
    const tracked = new TextDecoder().decode(stdout).split("\n").filter(Boolean);
    const stray = [...new Set(tracked.map((path) => path.split("/")[0]!))]
      .filter((name) => !TOP_LEVEL.has(name));
    assert.deepEqual(stray, [], `move into scripts/, lib/ or tests/, or delete: ${stray}`);
  },
});
