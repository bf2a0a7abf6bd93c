/**
 * # Demo: every script, talking to each other
 *
 * Starts each server on a free port, runs its client against it, and prints
 * a transcript of the exact commands and what they printed. Exits 0 when
 * every exchange gave the expected answer, 1 otherwise.
 *
 * Run from the project root: `deno task demo`, or
 * `deno run --allow-net=127.0.0.1 --allow-run --allow-read=. --allow-write=received scripts/demo.ts`
 * (`--allow-run` starts the scripts as child processes of this runtime; the
 * file transfer saves its copy in a fresh `received/demo-*` directory, removed
 * at the end, so a file you received earlier is never touched).
 *
 * @module
 */

import { badNetwork } from "./demo/bad_network.ts";
import { chatOverRedis, chatRoom, webChat } from "./demo/chat.ts";
import { tcpEcho, udpPair, webSocket } from "./demo/echo.ts";
import { fileTransfer } from "./demo/file_transfer.ts";

/** Runs every section; exits 1 on the first failure. */
export async function main(): Promise<number> {
  const sections = [
    tcpEcho,
    udpPair,
    chatRoom,
    webChat,
    chatOverRedis,
    webSocket,
    fileTransfer,
    badNetwork,
  ];
  try {
    for (const section of sections) await section();
  } catch (error) {
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
  console.log("\nDemo finished: every exchange gave the expected answer.");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
