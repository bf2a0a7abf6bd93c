import assert from "node:assert/strict";
import { sanitizeText } from "../../lib/chat/sanitize_text.ts";

Deno.test("sanitizeText removes what a terminal would act on and keeps all other text", () => {
  const cases: [input: string, expected: string, covers: string][] = [
    ["plain text", "plain text", "nothing to remove: returned as is"],
    [
      "caf\u00e9 \u65e5\u672c \u{1F600} \u05e9\u05dc\u05d5\u05dd",
      "caf\u00e9 \u65e5\u672c \u{1F600} \u05e9\u05dc\u05d5\u05dd",
      "UTF-8 (accents, CJK, emoji, Hebrew) intact",
    ],
    ["\x1b[2J\x1b[Hhi", "hi", "CSI clear screen and cursor home"],
    ["\x1b[1;31mred\x1b[0m", "red", "SGR colours"],
    ["\x1b[?1049h", "", "CSI with private parameter (alternate screen)"],
    ["a\x1b]0;pwned\x07b", "ab", "OSC window title ended by BEL"],
    ["a\x1b]52;c;ZXZpbA==\x1b\\b", "ab", "OSC 52 clipboard write ended by ST (ESC \\)"],
    ["a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b", "alinkb", "OSC 8 hyperlink"],
    ["a\x1b]0;never ends", "a", "unterminated OSC swallows the rest"],
    ["a\x1bPq#0;2;0;0;0\x1b\\b", "ab", "DCS (sixel) string"],
    ["a\x1b_apc\x1b\\b", "ab", "APC string"],
    ["a\x1bcb", "ab", "ESC c (full reset)"],
    ["a\x1b(Bb", "ab", "ESC ( B (charset) with an intermediate byte"],
    ["a\x1b", "a", "lone ESC at the end"],
    ["\x9b31mred", "red", "8-bit CSI (U+009B)"],
    ["a\x9d0;t\x9cb", "ab", "8-bit OSC ended by 8-bit ST"],
    ["a\x85b\x8dc", "abc", "other C1 controls (NEL, RI)"],
    ["a\x00b\x07c\x08d\x7fe", "abcde", "NUL, BEL, backspace, DEL"],
    ["a\rb\nc", "abc", "CR and LF cannot fake a new line"],
    ["a\tb", "a b", "tab becomes a space"],
    ["x\u202egnp.exe", "xgnp.exe", "right-to-left override"],
    [
      "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069ok",
      "ok",
      "every bidi embedding, override and isolate",
    ],
    ["a\u200fb", "a\u200fb", "RLM is a mark, not an override: kept"],
    ["a\ud800b", "a\ufffdb", "lone surrogate becomes U+FFFD"],
    ["\ufffd", "\ufffd", "replacement character (from invalid UTF-8) kept"],
  ];
  for (const [input, expected, covers] of cases) {
    assert.equal(sanitizeText(input), expected, covers);
  }
});

Deno.test("sanitizeText output never contains a control or bidi override, for random input", () => {
  // deno-lint-ignore no-control-regex
  const unsafe = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
  const alphabet = [
    "\x1b",
    "[",
    "]",
    "\\",
    "\x07",
    "\x9b",
    "\x9c",
    "\x9d",
    "0",
    ";",
    "m",
    "a",
    "\u202e",
    "\t",
    "\u00e9",
    "\r",
  ];
  for (let round = 0; round < 2000; round++) {
    let text = "";
    for (let i = 0; i < 20; i++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
    const clean = sanitizeText(text);
    assert.equal(unsafe.test(clean), false, JSON.stringify(text));
  }
});
