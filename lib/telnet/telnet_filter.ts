/**
 * Enough of Telnet (RFC 854, 855, 860, 1143) for a line-based server that
 * telnet and PuTTY users connect to: commands and option negotiation are
 * taken out of the byte stream before line decoding, and answered without
 * loops. A client that never sends IAC (`nc`, `socat`) sees no change.
 *
 * @module
 */

/** Telnet command bytes (RFC 854), each sent after {@linkcode TELNET.IAC}. */
export const TELNET = {
  /** End of subnegotiation. */
  SE: 240,
  /** No operation. */
  NOP: 241,
  /** Data mark (the data part of a Synch). */
  DM: 242,
  /** Break. */
  BRK: 243,
  /** Interrupt process: what telnet sends for Ctrl+C. */
  IP: 244,
  /** Abort output. */
  AO: 245,
  /** Are you there. */
  AYT: 246,
  /** Erase character. */
  EC: 247,
  /** Erase line. */
  EL: 248,
  /** Go ahead. */
  GA: 249,
  /** Start of subnegotiation. */
  SB: 250,
  /** Sender wants to enable an option itself. */
  WILL: 251,
  /** Sender refuses to enable (or disables) an option itself. */
  WONT: 252,
  /** Sender asks the receiver to enable an option. */
  DO: 253,
  /** Sender asks the receiver not to use an option. */
  DONT: 254,
  /** Interpret as command: starts every command; doubled, a literal 255. */
  IAC: 255,
} as const;

/** Option codes seen in practice, for logs and tests. */
export const TELNET_OPTION = {
  /** Echo (RFC 857). */
  ECHO: 1,
  /** Suppress go ahead (RFC 858). */
  SGA: 3,
  /** Timing mark (RFC 860): answered so that Ctrl+C does not freeze the client. */
  TIMING_MARK: 6,
  /** Terminal type (RFC 1091). */
  TTYPE: 24,
  /** Window size (RFC 1073). */
  NAWS: 31,
  /** Terminal speed (RFC 1079). */
  TSPEED: 32,
  /** Line mode (RFC 1184). */
  LINEMODE: 34,
  /** Environment (RFC 1572). */
  NEW_ENVIRON: 39,
} as const;

/** The commands reported to the application (option negotiation is handled here). */
export type TelnetCommand =
  | "EOF"
  | "SUSP"
  | "ABORT"
  | "NOP"
  | "DM"
  | "BRK"
  | "IP"
  | "AO"
  | "AYT"
  | "EC"
  | "EL"
  | "GA";

const COMMAND_NAMES: Record<number, TelnetCommand> = {
  236: "EOF", // RFC 1184
  237: "SUSP",
  238: "ABORT",
  241: "NOP",
  242: "DM",
  243: "BRK",
  244: "IP",
  245: "AO",
  246: "AYT",
  247: "EC",
  248: "EL",
  249: "GA",
};

/** Options for {@linkcode TelnetFilter}. */
export interface TelnetFilterOptions {
  /**
   * Turn the NVT line ends `CR LF`, `CR NUL` and a bare `CR` into `LF`, so a
   * line decoder that splits on `LF` sees one line end for each (`CR NUL LF`,
   * which PuTTY sends for a piped `\r\n`, counts as one too).
   *
   * @default {true}
   */
  normalizeLineEnds?: boolean;
  /**
   * The most refusals (`WONT`/`DONT`) sent for one option in one direction.
   * RFC 1143 already rules out loops with a peer that follows it; this caps
   * what a peer that does not can make the server send.
   *
   * @default {4}
   */
  maxRefusalsPerOption?: number;
}

/** What {@linkcode TelnetFilter.push} took out of one chunk. */
export interface TelnetChunk {
  /** The application's bytes: commands removed, `IAC IAC` as 255, line ends normalized. */
  data: Uint8Array;
  /** Bytes to send back to the client now (negotiation answers); often empty. */
  reply: Uint8Array;
  /** Commands the client sent, in order, such as `"IP"` for Ctrl+C. */
  commands: TelnetCommand[];
}

/**
 * Where the filter is in the byte stream:
 * - `"data"`: ordinary bytes;
 * - `"iac"`: after an IAC, waiting for the command byte;
 * - `"option"`: after IAC WILL/WONT/DO/DONT, waiting for the option byte;
 * - `"sb"`: inside a subnegotiation (its bytes are dropped);
 * - `"sbIac"`: an IAC inside a subnegotiation (SE ends it, IAC is an escaped 255).
 */
type State = "data" | "iac" | "option" | "sb" | "sbIac";

const CR = 13;
const LF = 10;
const NUL = 0;
const EMPTY = new Uint8Array(0);

/**
 * A stream filter for the server side of a Telnet connection.
 *
 * The server never enables an option: every `DO x` is answered `WONT x` and
 * every `WILL x` `DONT x` (RFC 1143's rule for a side whose options are all
 * off: refuse a request, ignore a refusal, so no answer can start a loop).
 * The one exception is `DO TIMING-MARK`, answered `WILL TIMING-MARK` every
 * time (RFC 860): telnet sends it after Ctrl+C (`IAC IP IAC DO TIMING-MARK`)
 * and discards all output until the answer comes. Refusing everything keeps
 * telnet in its default line-by-line mode, with local echo and editing,
 * which suits a line-based server. Subnegotiations (`SB ... SE`, such as
 * PuTTY's window size) are dropped without buffering, so they cost no memory.
 *
 * Nothing is ever sent unasked, and text without byte 255 (all of UTF-8)
 * passes unchanged apart from line ends, so `nc` users see no difference.
 *
 * @example Ctrl+C from telnet, and a line
 * ```ts
 * import assert from "node:assert/strict";
 * import { TELNET, TELNET_OPTION, TelnetFilter } from "./telnet_filter.ts";
 *
 * const { IAC, IP, DO, WILL } = TELNET;
 * const filter = new TelnetFilter();
 * const out = filter.push(
 *   new Uint8Array([...new TextEncoder().encode("hi\r\n"), IAC, IP, IAC, DO, TELNET_OPTION.TIMING_MARK]),
 * );
 * assert.equal(new TextDecoder().decode(out.data), "hi\n");
 * assert.deepEqual(out.commands, ["IP"]);
 * assert.deepEqual([...out.reply], [IAC, WILL, TELNET_OPTION.TIMING_MARK]);
 * ```
 */
export class TelnetFilter {
  #normalize: boolean;
  #maxRefusals: number;
  #state: State = "data";
  #verb = 0; // WILL, WONT, DO or DONT while in "option"
  // After a CR (already turned into LF): "cr", or "crNul" once a NUL followed it.
  #afterCr: "no" | "cr" | "crNul" = "no";
  #refusals = new Map<number, number>(); // verb << 8 | option -> refusals sent
  #sawCommand = false;

  /**
   * Creates a filter for one connection.
   *
   * @param options Line-end handling and the refusal cap.
   * @throws {RangeError} If `maxRefusalsPerOption` is negative or not an integer.
   */
  constructor(options: TelnetFilterOptions = {}) {
    this.#normalize = options.normalizeLineEnds ?? true;
    this.#maxRefusals = options.maxRefusalsPerOption ?? 4;
    if (!Number.isInteger(this.#maxRefusals) || this.#maxRefusals < 0) {
      throw new RangeError(
        `Cannot create TelnetFilter: maxRefusalsPerOption ${this.#maxRefusals} is not a non-negative integer`,
      );
    }
  }

  /** True once the client sent any Telnet command: it is a Telnet client, not `nc`. */
  get isTelnetClient(): boolean {
    return this.#sawCommand;
  }

  /**
   * Filters the next chunk from the client. Sequences split across chunks
   * (an IAC at the end of one, its command in the next) are handled.
   *
   * @param chunk Bytes as read from the connection; not kept.
   * @returns The application's bytes, the reply to send, and the commands seen.
   */
  push(chunk: Uint8Array): TelnetChunk {
    // Fast path: plain text in the data state passes through untouched.
    if (
      this.#state === "data" && this.#afterCr === "no" && chunk.indexOf(TELNET.IAC) === -1 &&
      (!this.#normalize || chunk.indexOf(CR) === -1)
    ) {
      return { data: chunk, reply: EMPTY, commands: [] };
    }
    const data = new Uint8Array(chunk.length); // output never grows: IAC IAC -> 255, CR LF -> LF
    let length = 0;
    const reply: number[] = [];
    const commands: TelnetCommand[] = [];
    for (const byte of chunk) {
      switch (this.#state) {
        case "data":
          if (byte === TELNET.IAC) {
            this.#state = "iac";
            this.#afterCr = "no"; // CR then a command: that CR was a bare CR
          } else if (this.#afterCr === "cr" && byte === NUL) {
            this.#afterCr = "crNul"; // CR NUL; an LF may still follow (PuTTY sends CR NUL LF)
          } else if (this.#afterCr !== "no" && byte === LF) {
            this.#afterCr = "no"; // the LF of CR LF or CR NUL LF: one line end in all
          } else if (this.#normalize && byte === CR) {
            data[length++] = LF;
            this.#afterCr = "cr";
          } else {
            data[length++] = byte;
            this.#afterCr = "no";
          }
          break;
        case "iac":
          this.#sawCommand = true;
          this.#state = "data";
          if (byte === TELNET.IAC) {
            data[length++] = TELNET.IAC;
            this.#afterCr = "no";
          } else if (byte >= TELNET.WILL) {
            this.#verb = byte;
            this.#state = "option";
          } else if (byte === TELNET.SB) {
            this.#state = "sb";
          } else if (COMMAND_NAMES[byte]) {
            commands.push(COMMAND_NAMES[byte]!);
          } // anything else (a stray SE, an unknown code) is dropped
          break;
        case "option":
          this.#state = "data";
          this.#negotiate(this.#verb, byte, reply);
          break;
        case "sb":
          if (byte === TELNET.IAC) this.#state = "sbIac";
          break;
        case "sbIac":
          // IAC SE ends it; IAC IAC is a 255 inside it. Anything else is a
          // protocol error (RFC 855): end the subnegotiation there.
          if (byte === TELNET.IAC) this.#state = "sb";
          else this.#state = "data";
          break;
      }
    }
    return {
      data: data.subarray(0, length),
      reply: reply.length ? new Uint8Array(reply) : EMPTY,
      commands,
    };
  }

  #negotiate(verb: number, option: number, reply: number[]): void {
    if (verb === TELNET.DO && option === TELNET_OPTION.TIMING_MARK) {
      // "Everything you sent before has been processed": answered every time.
      reply.push(TELNET.IAC, TELNET.WILL, option);
      return;
    }
    // Our options and the client's are all off. A refusal (WONT, DONT) agrees
    // with that state and needs no answer; answering it is what makes loops.
    if (verb === TELNET.WONT || verb === TELNET.DONT) return;
    const key = (verb << 8) | option;
    const sent = this.#refusals.get(key) ?? 0;
    if (sent >= this.#maxRefusals) return;
    this.#refusals.set(key, sent + 1);
    reply.push(TELNET.IAC, verb === TELNET.DO ? TELNET.WONT : TELNET.DONT, option);
  }
}

/**
 * Escapes bytes for sending to a Telnet client: each 255 is doubled
 * (`IAC IAC`), so data is never taken for a command. UTF-8 text has no 255,
 * so text comes back as it was, without a copy.
 *
 * @param bytes The data to send.
 * @returns The bytes to write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeTelnetData } from "./telnet_filter.ts";
 *
 * assert.deepEqual([...escapeTelnetData(new Uint8Array([1, 255, 2]))], [1, 255, 255, 2]);
 * const text = new TextEncoder().encode("κόσμε\n");
 * assert.equal(escapeTelnetData(text), text);
 * ```
 */
export function escapeTelnetData(bytes: Uint8Array): Uint8Array {
  let count = 0;
  for (let at = bytes.indexOf(TELNET.IAC); at !== -1; at = bytes.indexOf(TELNET.IAC, at + 1)) {
    count++;
  }
  if (count === 0) return bytes;
  const out = new Uint8Array(bytes.length + count);
  let length = 0;
  for (const byte of bytes) {
    out[length++] = byte;
    if (byte === TELNET.IAC) out[length++] = TELNET.IAC;
  }
  return out;
}
