/**
 * Reading a connection chunk by chunk with a buffer sized to the traffic.
 *
 * @module
 */

import { ReadBuffer, type ReadBufferOptions } from "./read_buffer.ts";

/** Something with a `read` like `Deno.Conn`: fills `p`, resolves to the count or `null` at EOF. */
export interface Reader {
  /** Reads up to `p.length` bytes into `p`. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode ChunkReader}: the sizes of its {@linkcode ReadBuffer}. */
export type ChunkReaderOptions = ReadBufferOptions;

/**
 * Reads a connection chunk by chunk into a reused buffer that grows when
 * reads fill it and shrinks when traffic is light ({@linkcode ReadBuffer}).
 *
 * Why not `for await (const chunk of conn.readable)`? Two reasons. That loop
 * closes the whole connection when it reaches EOF, so a server cannot read a
 * request to EOF and then write its reply (half-close). And every chunk is a
 * fresh 64 KiB allocation, which costs throughput and memory per idle
 * connection. `ChunkReader.read()` returns `null` at EOF and leaves the
 * connection open for writing.
 *
 * Each returned chunk is a view into the reader's buffer, valid until the
 * next `read()`: copy it (`chunk.slice()`) to keep it. Servers holding
 * thousands of idle connections can use a {@linkcode ReadBuffer} with
 * `conn.read()` directly, which saves the promise this class adds per read.
 *
 * @example Echo until the client half-closes, then close
 * ```ts ignore
 * import { ChunkReader } from "./chunk_reader.ts";
 * import { writeAll } from "./write_all.ts";
 *
 * const conn = await Deno.connect({ port: 7000 });
 * const reader = new ChunkReader(conn);
 * for (let chunk; (chunk = await reader.read()) !== null;) {
 *   await writeAll(conn, chunk);
 * }
 * conn.close();
 * ```
 */
export class ChunkReader {
  #reader: Reader;
  #buffer: ReadBuffer;

  /**
   * Creates a reader.
   *
   * @param reader The connection to read from.
   * @param options Buffer sizes (default: 128 bytes growing to 64 KiB).
   * @throws {RangeError} If the sizes are not positive integers with `initialSize <= maxSize`.
   */
  constructor(reader: Reader, options: ChunkReaderOptions = {}) {
    this.#reader = reader;
    this.#buffer = new ReadBuffer(options);
  }

  /** The current buffer size, in bytes. */
  get bufferSize(): number {
    return this.#buffer.bytes.length;
  }

  /**
   * Reads the next chunk.
   *
   * @returns The bytes that arrived (a view valid until the next call), or
   *   `null` once the peer has closed its sending side.
   */
  async read(): Promise<Uint8Array | null> {
    const n = await this.#reader.read(this.#buffer.bytes);
    return n === null ? null : this.#buffer.take(n);
  }
}
