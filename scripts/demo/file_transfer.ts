/**
 * The demo's file transfer section: `file_send.ts` to `file_receive.ts`, into a fresh
 * `received/demo-*` directory.
 *
 * @module
 */

import { expect, indent, NET, runClient, show, startServer } from "./transcript.ts";

export async function fileTransfer(): Promise<void> {
  console.log("\n== File transfer: length-prefixed header, streamed bytes, SHA-256 verdict ==");
  // A directory of its own under ./received (git ignores it): the demo must
  // never replace a file of the same name that the user received there.
  await Deno.mkdir("received", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "received", prefix: "demo-" });
  try {
    await sendDenoJson(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

export async function sendDenoJson(dir: string): Promise<void> {
  const server = await startServer(
    "file_receive.ts",
    [NET, `--allow-read=${dir}`, `--allow-write=${dir}`],
    ["--port", "0", "--dir", dir],
  );
  try {
    const sent = await runClient(
      "file_send.ts",
      [NET, "--allow-read=deno.json"],
      ["--port", String(server.port), "deno.json"],
    );
    if (!/^sent deno\.json: .* verified by the receiver\n$/.test(sent)) {
      throw new Error(`file transfer: unexpected output ${JSON.stringify(sent)}`);
    }
  } finally {
    const log = await server.stop();
    show("kill -INT %1");
    indent(
      log.filter((line) => /saved|shut down/.test(line))
        .map((line) => line.replace(/^\S+ \w+\s+/, "")).join("\n"),
    );
  }
  expect(
    await Deno.readTextFile(`${dir}/deno.json`),
    await Deno.readTextFile("deno.json"),
    "the received copy",
  );
}
