// A learner who copies a script out of the repo needs it to run alone: the
// bundle (`deno task bundle`, the runtime's `deno bundle`) is one file with
// its lib/ modules inlined. This builds one bundle the way the task does and
// runs it from an empty folder, with the same flags as the script.
//
// `deno bundle` runs esbuild, which the runtime downloads from the npm
// registry the first time. A test must not reach beyond loopback, so this one
// runs only when esbuild is already in the runtime's cache (`deno task bundle`
// puts it there; .ci/run does so before the tests) and is ignored otherwise.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ignoreUnless } from "../helpers/external_tool.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { ChunkReader } from "../../lib/io/chunk_reader.ts";
import { ROOT, startScript } from "../helpers/script_process.ts";

/** Whether the runtime's npm cache holds esbuild for this platform, so bundling stays offline. */
async function bundlerCached(): Promise<boolean> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  if (!info.success) return false;
  const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout)) as { npmCache: string };
  const os = { windows: "win32" }[Deno.build.os as string] ?? Deno.build.os;
  const arch = { x86_64: "x64", aarch64: "arm64" }[Deno.build.arch];
  try {
    return (await Deno.stat(join(npmCache, "registry.npmjs.org", "@esbuild", `${os}-${arch}`)))
      .isDirectory;
  } catch {
    return false;
  }
}

const NO_BUNDLER = ignoreUnless(
  "esbuild in the Deno cache (deno task bundle)",
  await bundlerCached(),
);

Deno.test("a bundled tcp_echo_server.js runs alone from an empty folder and echoes", {
  ignore: NO_BUNDLER,
}, async () => {
  const empty = await Deno.makeTempDir({ prefix: "bundle_test_" });
  try {
    const bundled = join(empty, "tcp_echo_server.js");
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "-o", bundled, "scripts/tcp_echo_server.ts"],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(build.success, new TextDecoder().decode(build.stderr));
    assert.deepEqual([...Deno.readDirSync(empty)].map((entry) => entry.name), [
      "tcp_echo_server.js",
    ]);
    const source = await Deno.readTextFile(bundled);
    assert.doesNotMatch(source, /from "\.\.?\//, "no relative import is left");

    await using server = await startScript(bundled, ["--port", "0"], {
      denoFlags: ["--allow-net=127.0.0.1"],
      cwd: empty,
    });
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await writeAll(conn, new TextEncoder().encode("copied\n"));
    const echoed = await new ChunkReader(conn).read();
    assert.equal(new TextDecoder().decode(echoed!), "copied\n");
    const status = await server.interrupt();
    assert.equal(status.code, 0);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
