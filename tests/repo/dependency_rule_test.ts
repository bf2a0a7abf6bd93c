// The dependency rule for lib/, the one in lib/mod.ts and the README: each
// package imports only packages below it, nothing imports the CLI package,
// lib/ never imports scripts/, and there are no cycles. A layering slip (a
// client importing the TCP server for a 7-line helper, the TCP server importing
// the CLI's logger) is invisible in review and costs every learner who copies a
// script; this test reads the import statements and names the offending file.
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { ROOT, sourceFiles } from "./_source_files.ts";

/**
 * The packages each package may import directly (besides itself). `net` is
 * usable by all. framing ← io ← {tcp, udp} ← file_transfer; http ← websocket ←
 * chat, and redis ← chat (rooms shared over Redis); load (the benchmark clients) may use the protocol packages below it;
 * cli sits on top and may use anything that does not import it back.
 */
const ALLOWED: Record<string, string[]> = {
  net: [],
  framing: ["net"],
  io: ["framing", "net"],
  tcp: ["io", "framing", "net"],
  udp: ["io", "framing", "net"],
  file_transfer: ["tcp", "udp", "io", "framing", "net"],
  http: ["io", "framing", "net"],
  websocket: ["http", "tcp", "io", "framing", "net"],
  redis: ["tcp", "io", "framing", "net"],
  telnet: ["framing", "net"],
  proxy: ["tcp", "udp", "io", "framing", "net"],
  chat: ["websocket", "http", "telnet", "redis", "tcp", "io", "framing", "net"],
  load: ["websocket", "http", "tcp", "udp", "io", "framing", "net"],
  cli: [
    "redis",
    "file_transfer",
    "chat",
    "websocket",
    "http",
    "tcp",
    "udp",
    "io",
    "framing",
    "net",
  ],
};

/** One relative import found in a file. */
interface Edge {
  from: string;
  to: string;
}

/** The relative specifiers a module imports or re-exports, comments excluded. */
function relativeImports(source: string): string[] {
  // Drop block comments (JSDoc examples import things too) and line comments
  // that start a line; a `//` inside a string ("http://...") stays.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specifiers: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']/gm, // import x from "y"
    /^\s*import\s*["']([^"']+)["']/gm, // import "y"
    /\bimport\(\s*["']([^"']+)["']\s*\)/g, // import("y")
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      if (match[1]!.startsWith(".")) specifiers.push(match[1]!);
    }
  }
  return specifiers;
}

async function libEdges(): Promise<Edge[]> {
  const edges: Edge[] = [];
  for (const file of await sourceFiles("lib")) {
    const text = await Deno.readTextFile(join(ROOT, file));
    for (const specifier of relativeImports(text)) {
      const target = relative(ROOT, normalize(join(ROOT, dirname(file), specifier)));
      edges.push({ from: file, to: target.replaceAll("\\", "/") });
    }
  }
  return edges;
}

/** `lib/tcp/serve_tcp.ts` → `tcp`; `lib/mod.ts` → `(root)`; outside lib/ → the path. */
function packageOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] !== "lib") return path;
  return parts.length === 2 ? "(root)" : parts[1]!;
}

Deno.test("relativeImports finds imports and re-exports but not doc-example imports", () => {
  const source = [
    "/**",
    ' * import { serveTcp } from "../tcp/serve_tcp.ts";',
    " */",
    'import { a } from "./a.ts";',
    'import type { B } from "../b/b.ts";',
    "import {",
    "  c,",
    "  type D,",
    '} from "../c/c.ts";',
    'export * from "./e.ts";',
    'export { f } from "./f.ts";',
    'import page from "./page.html" with { type: "text" };',
    'const url = "http://127.0.0.1/"; // not an import',
    '// import { g } from "./g.ts";',
    'import { parseArgs } from "node:util";',
  ].join("\n");
  assert.deepEqual(relativeImports(source).sort(), [
    "../b/b.ts",
    "../c/c.ts",
    "./a.ts",
    "./e.ts",
    "./f.ts",
    "./page.html",
  ]);
});

Deno.test("every package in lib/ is in the dependency table and has a mod.ts", async () => {
  const packages: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, "lib"))) {
    if (entry.isDirectory) packages.push(entry.name);
  }
  assert.deepEqual(packages.sort(), Object.keys(ALLOWED).sort());
  for (const pkg of packages) {
    const stat = await Deno.stat(join(ROOT, "lib", pkg, "mod.ts"));
    assert.ok(stat.isFile, `lib/${pkg}/mod.ts`);
  }
});

Deno.test("each lib/<pkg>/mod.ts re-exports every public module of its package, and only that", async () => {
  for (const pkg of Object.keys(ALLOWED)) {
    const modules: string[] = [];
    for await (const entry of Deno.readDir(join(ROOT, "lib", pkg))) {
      const name = entry.name;
      if (entry.isFile && name.endsWith(".ts") && name !== "mod.ts" && !name.startsWith("_")) {
        modules.push(`./${name}`);
      }
    }
    const mod = await Deno.readTextFile(join(ROOT, "lib", pkg, "mod.ts"));
    assert.match(mod, /@module/, `lib/${pkg}/mod.ts has a @module doc`);
    const code = mod.replace(/\/\*[\s\S]*?\*\//g, "").split("\n").filter((line) => line.trim());
    const exported = code.map((line) => line.match(/^export \* from "(\.\/[^"]+)";$/)?.[1]);
    assert.ok(exported.every((path) => path !== undefined), `lib/${pkg}/mod.ts only re-exports`);
    assert.deepEqual(exported.sort(), modules.sort(), `lib/${pkg}/mod.ts`);
  }
});

Deno.test("lib/ never imports scripts/ or tests/, and nothing outside lib/", async () => {
  const outside = (await libEdges()).filter((edge) => !edge.to.startsWith("lib/"));
  assert.deepEqual(outside, []);
});

Deno.test("nothing in lib/ imports lib/cli/ except lib/cli/ itself and the lib/mod.ts map", async () => {
  const offenders = (await libEdges()).filter((edge) =>
    packageOf(edge.to) === "cli" && !["cli", "(root)"].includes(packageOf(edge.from))
  );
  assert.deepEqual(offenders, [], "take a ServerLogger (lib/net/logger.ts), not the CLI's Logger");
});

Deno.test("each package in lib/ imports only the packages below it", async () => {
  const offenders: string[] = [];
  for (const edge of await libEdges()) {
    const from = packageOf(edge.from);
    const to = packageOf(edge.to);
    if (from === to || from === "(root)") continue;
    if (!(ALLOWED[from] ?? []).includes(to)) offenders.push(`${edge.from} → ${edge.to}`);
  }
  assert.deepEqual(offenders, []);
});

Deno.test("the packages in lib/ import each other without cycles", async () => {
  const graph = new Map<string, Set<string>>();
  for (const edge of await libEdges()) {
    const from = packageOf(edge.from);
    const to = packageOf(edge.to);
    if (from === to || from === "(root)") continue;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  // Depth-first search; a node met again while still on the path closes a cycle.
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  function visit(node: string): void {
    if (done.has(node)) return;
    const at = path.indexOf(node);
    if (at >= 0) {
      cycles.push([...path.slice(at), node].join(" → "));
      return;
    }
    path.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    path.pop();
    done.add(node);
  }
  for (const node of graph.keys()) visit(node);
  assert.deepEqual(cycles, []);
});
