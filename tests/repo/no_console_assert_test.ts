// `console.assert` prints "Assertion failed" and carries on, so a doc example
// (run by `deno test --doc`) or a script check built on it is reported `ok`
// even when it is false. 44 of the 63 runnable examples in lib/ were like that
// until they moved to `node:assert/strict`; this test keeps it from coming back.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, sourceFiles } from "./_source_files.ts";

Deno.test("no file in lib/ or scripts/ uses console.assert, which cannot fail", async () => {
  const offenders: string[] = [];
  for (const dir of ["lib", "scripts"]) {
    for (const file of await sourceFiles(dir)) {
      const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n");
      lines.forEach((line, index) => {
        if (line.includes("console.assert(")) {
          offenders.push(`${file}:${index + 1}: ${line.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(offenders, [], "use node:assert/strict (assert.equal, assert.throws) instead");
});

Deno.test("every runnable doc example in lib/ that asserts imports node:assert/strict", async () => {
  // A ```ts block not marked `ignore` runs under `deno test --doc`; one that
  // calls `assert.` without importing it would fail to type-check, so this
  // only needs to check the import is the strict one.
  const loose: string[] = [];
  for (const file of await sourceFiles("lib")) {
    const text = await Deno.readTextFile(join(ROOT, file));
    if (/from "node:assert"/.test(text)) loose.push(file);
  }
  assert.deepEqual(loose, [], 'import assert from "node:assert/strict", not "node:assert"');
});
