// `new URL(".", import.meta.url).pathname` percent-encodes the path, so a
// checkout in "/home/me/my projects/" yields "my%20projects" and every spawn
// or file read built on it fails; on Windows it also yields "/C:/...".
// `import.meta.dirname` is the plain file-system path.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, sourceFiles } from "./_source_files.ts";

Deno.test("no source file turns import.meta.url into a path with .pathname", async () => {
  const offenders: string[] = [];
  for (const dir of ["lib", "scripts", "tests"]) {
    for (const file of await sourceFiles(dir)) {
      if (file.startsWith("tests/repo/")) continue; // these tests quote the pattern
      const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n");
      lines.forEach((line, index) => {
        if (/import\.meta\.url\)\.pathname/.test(line)) {
          offenders.push(`${file}:${index + 1}: ${line.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(offenders, [], "use import.meta.dirname with node:path join");
});
