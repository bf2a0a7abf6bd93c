import assert from "node:assert/strict";
import { formatHexDump, HexDumper } from "../../lib/cli/hex_dump.ts";

const cases: { name: string; bytes: number[]; offset: number; expected: string[] }[] = [
  // No bytes, no rows: a zero-length read prints nothing.
  { name: "empty input", bytes: [], offset: 0, expected: [] },
  // Exactly one full row: no padding between hex and ASCII beyond the gap.
  {
    name: "one full row",
    bytes: Array.from({ length: 16 }, (_, i) => 0x41 + i),
    offset: 0,
    expected: ["> 00000000  41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP"],
  },
  // 17 bytes: the second row starts at offset 0x10 and is padded.
  {
    name: "a row and one byte",
    bytes: Array.from({ length: 17 }, () => 0x61),
    offset: 0,
    expected: [
      "> 00000000  61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61  aaaaaaaaaaaaaaaa",
      `> 00000010  61${" ".repeat(45)}  a`,
    ],
  },
  // Controls, ESC, DEL and bytes >= 0x80 are dots, so a dump cannot drive the terminal.
  {
    name: "non-printable bytes",
    bytes: [0x00, 0x1b, 0x5b, 0x7f, 0x80, 0xff, 0x20],
    offset: 0x1234,
    expected: [`> 00001234  00 1b 5b 7f 80 ff 20${" ".repeat(27)}  ..[... `],
  },
];

for (const { name, bytes, offset, expected } of cases) {
  Deno.test(`formatHexDump formats ${name}`, () => {
    const text = formatHexDump(new Uint8Array(bytes), ">", offset);
    assert.deepEqual(text.split("\n").slice(0, -1), expected);
  });
}

Deno.test("HexDumper keeps one running offset per direction", () => {
  const out: string[] = [];
  const dumper = new HexDumper((text) => out.push(text));
  dumper.dump(">", new Uint8Array(20));
  dumper.dump("<", new Uint8Array(3));
  dumper.dump(">", new Uint8Array(1));
  dumper.dump("<", new Uint8Array(0));
  assert.deepEqual(out.join("").split("\n").filter(Boolean).map((row) => row.slice(0, 10)), [
    "> 00000000",
    "> 00000010",
    "< 00000000",
    "> 00000014",
  ]);
});
