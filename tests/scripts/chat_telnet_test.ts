// Issue 10, section 3, end to end: scripts/chat_server.ts with the real `telnet` on a
// pseudo-terminal (Ctrl+C included) and with PuTTY's recorded negotiation over a raw socket.
//
// Regression: the TCP port had no telnet layer. Ctrl+C in telnet sends IAC IP IAC DO
// TIMING-MARK and telnet then discards all output until the server answers the timing mark,
// so the user never saw the room again, and the IAC bytes reached the room and its history
// as U+FFFD. PuTTY's negotiation at connect made its first line unusable as a nick.
import assert from "node:assert/strict";
import { TELNET, TELNET_OPTION } from "../../lib/telnet/telnet_filter.ts";
import { ChatLineClient } from "../helpers/chat_line_client.ts";
import { startScript } from "../helpers/script_process.ts";
import { haveTelnetPty, TelnetPty } from "../helpers/telnet_pty.ts";

const HAVE_TELNET = await haveTelnetPty();
const { IAC, WILL, WONT, DO, DONT, SB, SE } = TELNET;
const { ECHO, SGA, TIMING_MARK, TTYPE, NAWS, TSPEED, NEW_ENVIRON } = TELNET_OPTION;

/** No line a chat client got may hold a replacement character or a raw IAC. */
function assertClean(lines: readonly string[]): void {
  for (const line of lines) assert.doesNotMatch(line, /[\ufffd\xff]/, line);
}

Deno.test({
  name:
    "chat_server.ts with the real telnet on a pty: chat, Ctrl+C, and the user still sees the room",
  ignore: !HAVE_TELNET,
  async fn() {
    await using server = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"]);
    await using telnet = await TelnetPty.open(server.port);
    await telnet.waitFor(/Pick a nick/);
    let mark = telnet.output.length;
    await telnet.typeLine("alice");
    await telnet.waitFor(/You are alice/, mark);
    await using bob = await ChatLineClient.connect(server.port, "bob");
    await telnet.typeLine("hello before");
    await bob.waitFor(/<alice> hello before$/);

    mark = telnet.output.length;
    await telnet.ctrlC();
    await telnet.typeLine("hello after");
    await bob.waitFor(/<alice> hello after$/);
    await bob.send("can you still see me?");
    await telnet.waitFor(/<bob> can you still see me\?/, mark);

    // The history that a newcomer gets holds what was said, and nothing of the Ctrl+C.
    await using carol = await ChatLineClient.connect(server.port, "carol");
    await carol.send("/who");
    await carol.waitFor(/^\*\*\* \d+ in #/);
    const said = carol.lines.filter((line) => /<alice>/.test(line));
    assert.deepEqual(said.map((line) => line.replace(/^\[\d\d:\d\d\] /, "")), [
      "<alice> hello before",
      "<alice> hello after",
    ]);
    assertClean([...bob.lines, ...carol.lines]);
  },
});

// Recorded from PuTTY 0.78 (plink -telnet) against a silent listener; the same recording as
// tests/telnet/telnet_filter_test.ts: the negotiation, then "alice" CR NUL LF "hi" LF.
const PUTTY_NEGOTIATION = [
  ...[IAC, WILL, NAWS, IAC, WILL, TSPEED, IAC, WILL, TTYPE, IAC, WILL, NEW_ENVIRON],
  ...[IAC, DO, ECHO, IAC, WILL, SGA, IAC, DO, SGA],
];
const PUTTY_REFUSALS = [
  ...[IAC, DONT, NAWS, IAC, DONT, TSPEED, IAC, DONT, TTYPE, IAC, DONT, NEW_ENVIRON],
  ...[IAC, WONT, ECHO, IAC, DONT, SGA, IAC, WONT, SGA],
];

/** A raw TCP client that keeps every byte it got, to find Telnet answers among the lines. */
class RawClient implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  bytes: number[] = [];
  #wake = new Set<() => void>();
  #pump: Promise<void>;
  #ended = false;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.#pump = (async () => {
      const buffer = new Uint8Array(4096);
      for (let n; (n = await conn.read(buffer)) !== null;) {
        this.bytes.push(...buffer.subarray(0, n));
        for (const wake of this.#wake) wake();
      }
    })().catch(() => {}).finally(() => {
      this.#ended = true;
      for (const wake of this.#wake) wake();
    });
  }

  /** Offset of `sequence` in the bytes received, from `from` on, or -1. */
  indexOf(sequence: readonly number[], from = 0): number {
    outer: for (let at = from; at + sequence.length <= this.bytes.length; at++) {
      for (let i = 0; i < sequence.length; i++) {
        if (this.bytes[at + i] !== sequence[i]) continue outer;
      }
      return at;
    }
    return -1;
  }

  /** Resolves with the offset of `sequence` once it has arrived (bounded). */
  async waitFor(sequence: readonly number[] | string, from = 0, timeoutMs = 10_000) {
    const wanted = typeof sequence === "string"
      ? [...new TextEncoder().encode(sequence)]
      : sequence;
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    const check = () => {
      const at = this.indexOf(wanted, from);
      if (at !== -1) resolve(at);
      else if (this.#ended) reject(new Error(`Closed before ${JSON.stringify(sequence)}`));
    };
    const timer = setTimeout(
      () => reject(new Error(`No ${JSON.stringify(sequence)} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.#wake.add(check);
    try {
      check();
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#wake.delete(check);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.conn.close();
    } catch { /* closed already */ }
    await this.#pump;
  }
}

Deno.test("chat_server.ts with PuTTY's recorded negotiation: refused once, the nick registers, no IAC in the room", async () => {
  await using server = await startScript("chat_server.ts", ["--port", "0", "--http-port", "0"]);
  await using bob = await ChatLineClient.connect(server.port, "bob");
  await using putty = new RawClient(
    await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
  );
  await putty.conn.write(new Uint8Array(PUTTY_NEGOTIATION));
  await putty.waitFor(PUTTY_REFUSALS);
  await putty.conn.write(new Uint8Array([...new TextEncoder().encode("alice\r\0\nhi\n")]));
  await putty.waitFor("You are alice");
  await bob.waitFor(/\*\*\* alice joined #lobby/);
  await bob.waitFor(/<alice> hi$/);
  // PuTTY's window size, then Ctrl+C as telnet sends it and a line: answered in order.
  const before = putty.bytes.length;
  await putty.conn.write(
    new Uint8Array([
      ...[IAC, SB, NAWS, 0, 100, 0, 30, IAC, SE],
      ...new TextEncoder().encode("/who\r\n"),
      ...[IAC, TELNET.IP, IAC, DO, TIMING_MARK],
    ]),
  );
  const mark = await putty.waitFor([IAC, WILL, TIMING_MARK], before);
  const who = putty.indexOf([...new TextEncoder().encode("in #lobby")], before);
  assert.ok(who !== -1 && who < mark, "the /who answer comes before WILL TIMING-MARK");
  // Each option was refused once only: no negotiation loop.
  assert.equal(putty.indexOf(PUTTY_REFUSALS, putty.indexOf(PUTTY_REFUSALS) + 1), -1);
  await putty.conn.write(new TextEncoder().encode("after\r\n"));
  await bob.waitFor(/<alice> after$/);
  assertClean(bob.lines);
});
