import assert from "node:assert/strict";
import { LineDecoder } from "../../lib/framing/line_decoder.ts";
import {
  escapeTelnetData,
  TELNET,
  TELNET_OPTION,
  type TelnetCommand,
  TelnetFilter,
} from "../../lib/telnet/telnet_filter.ts";

const { IAC, DO, DONT, WILL, WONT, SB, SE, IP, AYT, NOP } = TELNET;
const { ECHO, SGA, TIMING_MARK: TM, TTYPE, NAWS, TSPEED, NEW_ENVIRON } = TELNET_OPTION;
const text = (s: string) => [...new TextEncoder().encode(s)];

/** Runs chunks through one filter; returns everything it gave out. */
function run(chunks: number[][], filter = new TelnetFilter()) {
  const data: number[] = [];
  const reply: number[] = [];
  const commands: TelnetCommand[] = [];
  for (const chunk of chunks) {
    const out = filter.push(new Uint8Array(chunk));
    data.push(...out.data);
    reply.push(...out.reply);
    commands.push(...out.commands);
  }
  return { data: new TextDecoder().decode(new Uint8Array(data)), bytes: data, reply, commands };
}

/** Every way of cutting `bytes` into two chunks, and one byte at a time. */
function splits(bytes: number[]): number[][][] {
  const ways = [[bytes], bytes.map((b) => [b])];
  for (let at = 1; at < bytes.length; at++) ways.push([bytes.slice(0, at), bytes.slice(at)]);
  return ways;
}

Deno.test("TelnetFilter: a table of sequences, each also split at every byte", () => {
  // [input, data out, reply, commands, what the row covers]
  const cases: [number[], string | number[], number[], TelnetCommand[], string][] = [
    [text("hello\n"), "hello\n", [], [], "plain text passes"],
    [text("κόσμε\n"), "κόσμε\n", [], [], "UTF-8 has no 255: unchanged"],
    [[...text("a"), IAC, IAC, ...text("b")], [97, 255, 98], [], [], "IAC IAC is a literal 255"],
    [[...text("hi\r\n")], "hi\n", [], [], "CR LF"],
    [[...text("hi\r"), 0, ...text("x\n")], "hi\nx\n", [], [], "CR NUL"],
    [[...text("hi\rx\r")], "hi\nx\n", [], [], "bare CR"],
    [[...text("\r\r\n")], "\n\n", [], [], "CR then CR LF: two line ends"],
    [[...text("a\r"), 0, 10, ...text("b\n")], "a\nb\n", [], [], "CR NUL LF: one line end"],
    [[...text("a\r"), 0, 0], "a\n\0", [], [], "CR NUL NUL: the second NUL is data"],
    [[IAC, DO, TM], "", [IAC, WILL, TM], [], "DO TIMING-MARK is answered WILL"],
    [[IAC, IP, IAC, DO, TM], "", [IAC, WILL, TM], ["IP"], "Ctrl+C in telnet"],
    [[IAC, DO, ECHO], "", [IAC, WONT, ECHO], [], "DO refused with WONT"],
    [[IAC, WILL, NAWS], "", [IAC, DONT, NAWS], [], "WILL refused with DONT"],
    [[IAC, WONT, ECHO, IAC, DONT, SGA], "", [], [], "refusals are never answered"],
    [[IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE, ...text("x")], "x", [], [], "SB ... SE dropped"],
    [[IAC, SB, NAWS, 0, IAC, IAC, 0, 24, IAC, SE], "", [], [], "IAC IAC inside SB (width 255)"],
    [
      [IAC, SB, TTYPE, 0, ...text("XTERM"), IAC, SE, ...text("ok\r\n")],
      "ok\n",
      [],
      [],
      "SB TTYPE IS",
    ],
    [[IAC, AYT, IAC, NOP], "", [], ["AYT", "NOP"], "commands are reported"],
    [[IAC, SE, ...text("z")], "z", [], [], "a stray SE is dropped"],
    [[IAC, 17, ...text("z")], "z", [], [], "an unknown command byte is dropped"],
    [[...text("a\r"), IAC, NOP, ...text("\nb")], "a\n\nb", [], ["NOP"], "CR, command, LF"],
  ];
  for (const [input, data, reply, commands, why] of cases) {
    for (const chunks of splits(input)) {
      const out = run(chunks);
      const label = `${why}: ${JSON.stringify(chunks)}`;
      assert.deepEqual(out.bytes, typeof data === "string" ? text(data) : data, label);
      assert.deepEqual(out.reply, reply, label);
      assert.deepEqual(out.commands, commands, label);
    }
  }
});

Deno.test("TelnetFilter hands plain chunks back without a copy, and nc-style input is unchanged for a LineDecoder", () => {
  const filter = new TelnetFilter();
  const chunk = new Uint8Array(text("bob\nhello from nc\n"));
  const out = filter.push(chunk);
  assert.equal(out.data, chunk);
  assert.equal(out.reply.length, 0);
  assert.equal(filter.isTelnetClient, false);
  const decoder = new LineDecoder();
  decoder.push(filter.push(new Uint8Array(text("with crlf\r\n"))).data);
  assert.equal(decoder.next(), "with crlf");
});

Deno.test("TelnetFilter does not loop: a peer repeating a request gets at most maxRefusalsPerOption answers", () => {
  const filter = new TelnetFilter({ maxRefusalsPerOption: 2 });
  const out = run(Array.from({ length: 10 }, () => [IAC, WILL, ECHO, IAC, DO, ECHO]), filter);
  assert.deepEqual(out.reply, [IAC, DONT, ECHO, IAC, WONT, ECHO, IAC, DONT, ECHO, IAC, WONT, ECHO]);
  // Timing marks are answered every time: each Ctrl+C waits for its own.
  assert.deepEqual(run([[IAC, DO, TM], [IAC, DO, TM], [IAC, DO, TM]], filter).reply.length, 9);
  assert.throws(() => new TelnetFilter({ maxRefusalsPerOption: -1 }), RangeError);
});

// Recorded from PuTTY 0.78 (plink -telnet, Debian putty-tools), one array per
// read(), against a listener that said nothing ("silent") and one that sent
// IAC DO NAWS, IAC DO TTYPE, IAC WILL ECHO, IAC WILL SGA and then
// IAC SB TTYPE SEND IAC SE ("answering"). Typed input: "alice\r\n", "hi\n".
const PUTTY_SILENT = [
  [255, 251, 31, 255, 251, 32, 255, 251, 24, 255, 251, 39, 255, 253, 1, 255, 251, 3, 255, 253, 3],
  [97, 108, 105, 99, 101, 13, 0, 10, 104, 105, 10],
  [255, 236],
];
const PUTTY_ANSWERING = [
  [
    ...[255, 251, 31, 255, 251, 32, 255, 251, 24, 255, 251, 39, 255, 253, 1, 255, 251, 3],
    ...[255, 253, 3, 255, 250, 31, 0, 80, 0, 24, 255, 240],
  ],
  [255, 250, 24, 0, 88, 84, 69, 82, 77, 255, 240],
  [97, 108, 105, 99, 101, 13, 0, 10],
  [104, 105, 10],
  [255, 236],
];

Deno.test("TelnetFilter with recorded PuTTY bytes: every option refused once, lines intact", () => {
  const recordings: [string, number[][]][] = [
    ["silent", PUTTY_SILENT],
    ["answering", PUTTY_ANSWERING],
  ];
  for (const [name, recording] of recordings) {
    for (const chunks of [recording, recording.flat().map((b) => [b])]) {
      const filter = new TelnetFilter();
      const out = run(chunks, filter);
      // PuTTY sends "alice" CR NUL and then the LF it was given: one line end.
      const decoder = new LineDecoder();
      decoder.push(new Uint8Array(out.bytes));
      const lines = [];
      for (let line; (line = decoder.next()) !== null;) lines.push(line);
      assert.deepEqual(lines, ["alice", "hi"], `${name}`);
      assert.deepEqual(out.reply, [
        ...[IAC, DONT, NAWS, IAC, DONT, TSPEED, IAC, DONT, TTYPE, IAC, DONT, NEW_ENVIRON],
        ...[IAC, WONT, ECHO, IAC, DONT, SGA, IAC, WONT, SGA],
      ], `${name}`);
      assert.deepEqual(out.commands, ["EOF"]);
      assert.equal(filter.isTelnetClient, true);
    }
  }
});

Deno.test("escapeTelnetData doubles each 255 and leaves other bytes alone", () => {
  assert.deepEqual([...escapeTelnetData(new Uint8Array([255, 255]))], [255, 255, 255, 255]);
  const filter = new TelnetFilter({ normalizeLineEnds: false });
  const bytes = new Uint8Array([0, 13, 255, 10, 254]);
  assert.deepEqual(filter.push(escapeTelnetData(bytes)).data, bytes, "round trip");
});
