import assert from "node:assert/strict";
import {
  formatAddr,
  formatHostPort,
  parseListeningLine,
  stripBrackets,
} from "../../lib/net/net_addr.ts";

Deno.test("formatHostPort brackets IPv6 addresses and leaves others alone", () => {
  const table: [string, number, string][] = [
    ["127.0.0.1", 7000, "127.0.0.1:7000"],
    ["::1", 7000, "[::1]:7000"],
    ["fe80::1%eth0", 80, "[fe80::1%eth0]:80"], // a zone id stays inside the brackets
    ["[::1]", 7000, "[::1]:7000"], // already bracketed: not doubled
    ["localhost", 0, "localhost:0"],
  ];
  for (const [host, port, expected] of table) assert.equal(formatHostPort(host, port), expected);
});

Deno.test("formatAddr formats TCP and UDP addresses, and names other transports", () => {
  assert.equal(formatAddr({ transport: "tcp", hostname: "127.0.0.1", port: 1 }), "127.0.0.1:1");
  assert.equal(formatAddr({ transport: "udp", hostname: "::1", port: 53 }), "[::1]:53");
  assert.equal(formatAddr({ transport: "unix", path: "/tmp/s.sock" }), "/tmp/s.sock");
});

Deno.test("stripBrackets removes only a matching pair of brackets", () => {
  assert.equal(stripBrackets("[::1]"), "::1");
  assert.equal(stripBrackets("::1"), "::1");
  assert.equal(stripBrackets("127.0.0.1"), "127.0.0.1");
  assert.equal(stripBrackets("[::1"), "[::1");
});

Deno.test("parseListeningLine reads every listening format the servers print", () => {
  const table: [string, string, ReturnType<typeof parseListeningLine>][] = [
    ["raw TCP or UDP", "listening on 127.0.0.1:7000", { hostname: "127.0.0.1", port: 7000 }],
    ["IPv6 in brackets", "listening on [::1]:7001", { hostname: "::1", port: 7001 }],
    ["TLS", "listening on tls://127.0.0.1:7443", {
      scheme: "tls",
      hostname: "127.0.0.1",
      port: 7443,
    }],
    ["HTTP with the slash", "listening on http://127.0.0.1:8080/", {
      scheme: "http",
      hostname: "127.0.0.1",
      port: 8080,
    }],
    ["HTTP without the slash", "listening on http://[::1]:8080", {
      scheme: "http",
      hostname: "::1",
      port: 8080,
    }],
    ["HTTPS with a path", "listening on https://localhost:8443/chat", {
      scheme: "https",
      hostname: "localhost",
      port: 8443,
    }],
    ["a trailing CR or newline", "listening on 127.0.0.1:9\r\n", {
      hostname: "127.0.0.1",
      port: 9,
    }],
    ["port 0 is a number like any other", "listening on 127.0.0.1:0", {
      hostname: "127.0.0.1",
      port: 0,
    }],
    ["another line", "loaded certificate localhost.crt", null],
    ["listening said later in a line", "warn  not listening on 127.0.0.1:1", null],
  ];
  for (const [comment, line, expected] of table) {
    assert.deepEqual(parseListeningLine(line), expected, comment);
  }
});

Deno.test("parseListeningLine throws SyntaxError for a listening line it cannot read", () => {
  for (
    const line of [
      "listening on port 7000", // no host
      "listening on 127.0.0.1", // no port
      "listening on ::1:7000", // IPv6 without brackets is ambiguous
      "listening on 127.0.0.1:70000", // out of range
      "listening on 127.0.0.1:7000 (tls)", // words after the address
    ]
  ) {
    assert.throws(() => parseListeningLine(line), SyntaxError, line);
  }
});

Deno.test("parseListeningLine reads back what formatHostPort wrote", () => {
  for (const hostname of ["127.0.0.1", "::1", "localhost"]) {
    const line = `listening on ${formatHostPort(hostname, 4321)}`;
    assert.deepEqual(parseListeningLine(line), { hostname, port: 4321 });
  }
});
