import assert from "node:assert/strict";
import { explainListenError, isDisconnectError } from "../../lib/net/net_errors.ts";

Deno.test("explainListenError turns each runtime error into advice naming the address", () => {
  const table: [string, Error, string, RegExp][] = [
    [
      "in use",
      new Deno.errors.AddrInUse("x"),
      "127.0.0.1",
      /^address already in use: 127\.0\.0\.1:7000/,
    ],
    [
      "no permission flag",
      new Deno.errors.NotCapable("x"),
      "127.0.0.1",
      /--allow-net=127\.0\.0\.1\b/,
    ],
    ["IPv6 flag in brackets", new Deno.errors.NotCapable("x"), "::1", /--allow-net=\[::1\]/],
    ["privileged port", new Deno.errors.PermissionDenied("x"), "127.0.0.1", /below 1024/],
    [
      "foreign address",
      new Deno.errors.AddrNotAvailable("x"),
      "10.9.9.9",
      /does not belong to this machine/,
    ],
    ["anything else", new Error("boom"), "::1", /^cannot listen on \[::1\]:7000: boom$/],
  ];
  for (const [comment, error, host, pattern] of table) {
    assert.match(explainListenError(error, host, 7000), pattern, comment);
  }
});

Deno.test("explainListenError accepts a thrown non-Error", () => {
  assert.match(explainListenError("weird", "127.0.0.1", 1), /: weird$/);
});

Deno.test("isDisconnectError is true for a peer going away and false for bugs", () => {
  const disconnects = [
    new Deno.errors.ConnectionReset("x"),
    new Deno.errors.ConnectionAborted("x"),
    new Deno.errors.BrokenPipe("x"),
    new Deno.errors.NotConnected("x"),
    new Deno.errors.UnexpectedEof("x"),
    new Deno.errors.BadResource("x"),
    new Deno.errors.Interrupted("x"),
    new Deno.errors.TimedOut("x"),
  ];
  for (const error of disconnects) assert.equal(isDisconnectError(error), true, error.name);
  for (const error of [new TypeError("bug"), new Deno.errors.NotFound("x"), "text", null]) {
    assert.equal(isDisconnectError(error), false, String(error));
  }
});
