/**
 * # All benchmarks
 *
 * Runs each server's benchmark in turn. Each one starts our server and a
 * bare-runtime baseline in the same run and prints both with their ratio, so
 * the figures compare like with like on whatever machine runs them.
 *
 * Run: `deno task bench` (add `--only echo` to pick sections), or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-write scripts/bench/bench.ts`
 *
 * @module
 */

import { parseCliOrExit } from "../../lib/cli/cli.ts";
import { main as benchChat } from "./bench_chat.ts";
import { main as benchEcho } from "./bench_echo.ts";
import { main as benchFile } from "./bench_file.ts";
import { main as benchProxy } from "./bench_proxy.ts";
import { main as benchScale } from "./bench_scale.ts";
import { main as benchUdp } from "./bench_udp.ts";
import { main as benchWs } from "./bench_ws.ts";

const SECTIONS: Record<string, (args: string[]) => Promise<number>> = {
  echo: benchEcho,
  udp: benchUdp,
  chat: benchChat,
  ws: benchWs,
  file: benchFile,
  proxy: benchProxy,
  scale: benchScale,
};

const CLI = {
  name: "bench.ts",
  summary: "Run every benchmark (our servers vs bare-runtime baselines, in one run).",
  usage: [
    "deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-write scripts/bench/bench.ts [--only NAME]",
  ],
  options: {
    only: {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description: `Run only these sections: ${Object.keys(SECTIONS).join(", ")}`,
    },
  },
} as const;

/** Runs the chosen sections in order; returns the first non-zero exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const { values } = parseCliOrExit(args, CLI);
  const chosen = values.only.length > 0 ? values.only : Object.keys(SECTIONS);
  for (const name of chosen) {
    const section = SECTIONS[name];
    if (!section) {
      console.error(
        `error: unknown section '${name}' (known: ${Object.keys(SECTIONS).join(", ")})`,
      );
      return 2;
    }
    const code = await section([]);
    if (code !== 0) return code;
    console.log();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
