// A test that returns early when a tool is missing is reported `ok` although
// it checked nothing; 12 interop tests did that. Such tests declare
// `ignore: await missingTool(...)` (tests/helpers/external_tool.ts) instead, so
// they show as ignored, and fail under CI=true.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, sourceFiles } from "./_source_files.ts";

Deno.test("no test returns early after a tool check; missing tools mean ignore:", async () => {
  const offenders: string[] = [];
  for (const file of await sourceFiles("tests")) {
    if (file.startsWith("tests/repo/") || file.startsWith("tests/helpers/")) continue;
    const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n");
    lines.forEach((line, index) => {
      if (
        /^\s*if \(!await (?:hasTool|missingTool|requireTool|haveTool)\(.*\)\) return\b/.test(line)
      ) {
        offenders.push(`${file}:${index + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, []);
});
