/**
 * Reading a connection chunk by chunk with a buffer sized to the traffic.
 *
 * @module
 */

/** Something with a `read` like `Deno.Conn`: fills `p`, resolves to the count or `null` at EOF. */
export interface Reader {
  /** Reads up to `p.length` bytes into `p`. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode ChunkReader}. */
export interface ChunkReaderOptions {
  /**
   * The buffer size to start with, in bytes. An idle connection holds only
   * this much, which is what keeps thousands of idle connections cheap.
   *
   * @default {1024}
   */
  initialSize?: number;
  /**
   * The largest buffer, in bytes. The buffer doubles each time a read fills
   * it, up to this size, and halves again after a run of small reads.
   *
   * @default {65536}
   */
  maxSize?: number;
}

/** Reads in a row that use under a quarter of the buffer before it halves. */
const SMALL_READS_BEFORE_SHRINK = 16;

/**
 * Reads a connection chunk by chunk into a reused buffer that grows when
 * reads fill it and shrinks when traffic is light.
 *
 * Why not `for await (const chunk of conn.readable)`? Two reasons. That loop
 * closes the whole connection when it reaches EOF, so a server cannot read a
 * request to EOF and then write its reply (half-close). And every chunk is a
 * fresh 64 KiB allocation, which costs throughput and memory per idle
 * connection. `ChunkReader.read()` returns `null` at EOF and leaves the
 * connection open for writing.
 *
 * Each returned chunk is a view into the reader's buffer, valid until the
 * next `read()`: copy it (`chunk.slice()`) to keep it.
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
  #buffer: Uint8Array;
  #minSize: number;
  #maxSize: number;
  #smallReads = 0;

  /**
   * Creates a reader.
   *
   * @param reader The connection to read from.
   * @param options Buffer sizes.
   * @throws {RangeError} If the sizes are not positive integers with `initialSize <= maxSize`.
   */
  constructor(reader: Reader, options: ChunkReaderOptions = {}) {
    const initial = options.initialSize ?? 1024;
    const max = options.maxSize ?? 65_536;
    if (!Number.isInteger(initial) || !Number.isInteger(max) || initial < 1 || initial > max) {
      throw new RangeError(
        `Cannot create ChunkReader: need 1 <= initialSize (${initial}) <= maxSize (${max})`,
      );
    }
    this.#reader = reader;
    this.#buffer = new Uint8Array(initial);
    this.#minSize = initial;
    this.#maxSize = max;
  }

  /** The current buffer size, in bytes. */
  get bufferSize(): number {
    return this.#buffer.length;
  }

  /**
   * Reads the next chunk.
   *
   * @returns The bytes that arrived (a view valid until the next call), or
   *   `null` once the peer has closed its sending side.
   */
  async read(): Promise<Uint8Array | null> {
    const buffer = this.#buffer;
    const n = await this.#reader.read(buffer);
    if (n === null) return null;
    const chunk = buffer.subarray(0, n);
    // Size the next read's buffer to the traffic: a full read suggests more
    // is waiting, a long run of small reads means the big buffer is wasted.
    if (n === buffer.length && buffer.length < this.#maxSize) {
      this.#buffer = new Uint8Array(Math.min(buffer.length * 2, this.#maxSize));
      this.#smallReads = 0;
    } else if (n < buffer.length / 4 && buffer.length > this.#minSize) {
      if (++this.#smallReads >= SMALL_READS_BEFORE_SHRINK) {
        this.#buffer = new Uint8Array(Math.max(buffer.length / 2, this.#minSize));
        this.#smallReads = 0;
      }
    } else {
      this.#smallReads = 0;
    }
    return chunk;
  }
}
