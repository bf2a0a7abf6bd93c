/**
 * Netcat's core: stdin to a connection and the connection to stdout at the
 * same time, with a half-close at the end of stdin.
 *
 * @module
 */

import { ChunkReader } from "../io/chunk_reader.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import { writeAll } from "../io/write_all.ts";

/** Options for {@linkcode pipeStdio}. */
export interface PipeStdioOptions {
  /**
   * Called with each chunk once it is written to the connection (for a hex dump).
   *
   * @default {undefined}
   */
  onSend?: (chunk: Uint8Array) => void;
  /**
   * Called with each chunk read from the connection, before it goes to stdout.
   *
   * @default {undefined}
   */
  onReceive?: (chunk: Uint8Array) => void;
}

/**
 * Copies stdin to the server and the server to stdout at the same time.
 * At the end of stdin (or on Ctrl+C) only our sending side is shut
 * (half-close), so the echoes still in flight can arrive before the server
 * closes. The connection is closed at the end.
 *
 * @param conn The connection; closed at the end.
 * @param options Callbacks per chunk.
 * @returns When the server has closed its side (or a second after Ctrl+C).
 * @throws {Error} If reading from the connection or writing to stdout fails.
 *
 * @example
 * ```ts ignore
 * import { pipeStdio } from "./pipe_stdio.ts";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 7000 });
 * await pipeStdio(conn); // printf 'hi\n' | deno run --allow-net=127.0.0.1 this.ts
 * ```
 */
export async function pipeStdio(conn: Deno.Conn, options: PipeStdioOptions = {}): Promise<void> {
  const upload = (async () => {
    const stdin = new ChunkReader(Deno.stdin, { initialSize: 65_536 });
    for (let chunk; (chunk = await stdin.read()) !== null;) {
      await writeAll(conn, chunk);
      options.onSend?.(chunk);
    }
    await conn.closeWrite();
  })();
  const download = (async () => {
    const reader = new ChunkReader(conn, { initialSize: 65_536 });
    for (let chunk; (chunk = await reader.read()) !== null;) {
      options.onReceive?.(chunk);
      await writeAll(Deno.stdout, chunk);
    }
  })();
  // If the server closes first, a read of stdin may still be pending; the
  // caller exits the process, which ends it.
  upload.catch(() => {});
  // Ctrl+C: stop sending and let the echoes of what was sent arrive, as at the end of stdin;
  // the terminal and `deno task` may both deliver the keypress, so act once.
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    conn.closeWrite().catch(() => {});
    setTimeout(() => closeQuietly(conn), 1_000);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    await download;
  } catch (error) {
    if (interrupted && error instanceof Deno.errors.BadResource) return;
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    closeQuietly(conn);
  }
}
