import assert from "node:assert/strict";
import {
  connectOptions,
  formatHelp,
  listenHostsOptions,
  listenOptions,
  logLevel,
  parseCli,
  UsageError,
} from "../../lib/cli/cli.ts";

const SPEC = {
  name: "demo.ts",
  summary: "A demo.",
  usage: ["deno run demo.ts [options]"],
  options: {
    ...listenOptions(7000),
    rate: { type: "number", default: 10, min: 0, description: "Per second" },
    offset: { type: "integer", description: "Any integer, negative too" },
    message: { type: "string", short: "m", description: "Text" },
    header: { type: "string", multiple: true, short: "H", description: "Repeatable" },
    "max-connections": { type: "integer", default: 5, min: 1, description: "Most" },
    tls: { type: "boolean", description: "Use TLS" },
  },
} as const;

function usageError(args: string[], spec = SPEC): string {
  try {
    parseCli(args, spec);
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
    return error.message;
  }
  assert.fail(`${JSON.stringify(args)} was accepted`);
}

Deno.test("parseCli applies defaults and types numbers, booleans and repeatable flags", () => {
  const { values, positionals } = parseCli([], SPEC);
  assert.deepEqual(
    { ...values },
    {
      host: "127.0.0.1",
      port: 7000,
      rate: 10,
      offset: undefined,
      message: undefined,
      header: [],
      "max-connections": 5,
      tls: false,
      help: false,
      quiet: false,
      verbose: false,
    },
  );
  assert.deepEqual(positionals, []);
});

Deno.test("parseCli reads long, short, --flag=value and grouped short flags", () => {
  const { values } = parseCli(
    ["-p", "0", "--rate=2.5", "-qv", "-m", "hi", "-H", "a: 1", "--header", "b: 2", "--tls"],
    SPEC,
  );
  assert.equal(values.port, 0);
  assert.equal(values.rate, 2.5);
  assert.equal(values.quiet, true);
  assert.equal(values.verbose, true);
  assert.equal(values.message, "hi");
  assert.deepEqual(values.header, ["a: 1", "b: 2"]);
  assert.equal(values.tls, true);
});

Deno.test("parseCli takes a negative number after a flag as its value, not as a flag", () => {
  // Regression (newcomer trial B12): `--rate -5` said "option --rate needs a
  // value", because parseArgs in strict mode refuses any value starting with
  // "-" unless written `--rate=-5`.
  assert.equal(
    usageError(["--rate", "-5"]),
    "invalid value for --rate: -5 is out of range (0 to ∞)",
  );
  assert.equal(
    usageError(["-p", "-1"]),
    "invalid value for --port: -1 is out of range (0 to 65535)",
  );
  assert.equal(parseCli(["--offset", "-3"], SPEC).values.offset, -3);
  assert.equal(parseCli(["--offset", "-0.5e1"], SPEC).values.offset, -5);
  assert.equal(parseCli(["--offset=-7"], SPEC).values.offset, -7);
});

Deno.test("parseCli says a flag needs a value when the next word is another flag", () => {
  assert.equal(usageError(["--message"]), "option --message needs a value");
  assert.equal(usageError(["--host", "--port", "7000"]), "option --host needs a value");
  assert.equal(usageError(["-m", "-q"]), "option --message needs a value");
  // A value that starts with "-" can still be given with "=".
  assert.equal(parseCli(["--message=-q"], SPEC).values.message, "-q");
});

Deno.test("parseCli suggests the closest flag for a mistyped one", () => {
  assert.equal(usageError(["--prot", "1"]), "unknown option --prot (did you mean --port?)");
  assert.equal(usageError(["--hots"]), "unknown option --hots (did you mean --host?)");
  assert.equal(
    usageError(["--max-connection", "3"]),
    "unknown option --max-connection (did you mean --max-connections?)",
  );
  assert.equal(usageError(["--verbse"]), "unknown option --verbse (did you mean --verbose?)");
  assert.equal(usageError(["--banana"]), "unknown option --banana");
  assert.equal(usageError(["-z"]), "unknown option -z");
  assert.equal(usageError(["-qz"]), "unknown option -z");
});

Deno.test("parseCli refuses malformed and out-of-range numbers", () => {
  assert.equal(
    usageError(["--port", "http"]),
    "invalid value for --port: 'http' is not an integer",
  );
  assert.equal(usageError(["--port", "1.5"]), "invalid value for --port: '1.5' is not an integer");
  assert.equal(
    usageError(["--port", "65536"]),
    "invalid value for --port: 65536 is out of range (0 to 65535)",
  );
  assert.equal(usageError(["--rate", ""]), "invalid value for --rate: '' is not a number");
  assert.equal(
    usageError(["--rate", "Infinity"]),
    "invalid value for --rate: 'Infinity' is not a number",
  );
});

Deno.test("parseCli refuses a value for a boolean flag and unexpected positionals", () => {
  assert.equal(usageError(["--quiet=yes"]), "option --quiet takes no value");
  assert.equal(usageError(["extra"]), "unexpected argument extra");
  const withFile = { ...SPEC, positionals: "FILE" };
  assert.deepEqual(parseCli(["a.txt", "--tls", "--", "--b"], withFile).positionals, [
    "a.txt",
    "--b",
  ]);
});

Deno.test("listenHostsOptions makes --host repeatable with a loopback default", () => {
  const spec = {
    name: "x.ts",
    summary: "X.",
    usage: [],
    options: listenHostsOptions(7001),
  } as const;
  assert.deepEqual(parseCli([], spec).values.host, ["127.0.0.1"]);
  assert.deepEqual(parseCli(["--host", "::1", "--host", "127.0.0.1"], spec).values.host, [
    "::1",
    "127.0.0.1",
  ]);
  assert.match(
    formatHelp(spec),
    /--host HOST +Address to bind; repeat .*default: 127\.0\.0\.1; repeatable/,
  );
});

Deno.test("listenOptions and connectOptions give -p for --port", () => {
  for (const options of [listenOptions(7000), listenHostsOptions(7000), connectOptions(7000)]) {
    const spec = { name: "x.ts", summary: "X.", usage: [], options } as const;
    assert.equal(parseCli(["-p", "7100"], spec).values.port, 7100);
  }
  assert.equal(
    parseCli(["-p", "0"], { name: "x", summary: "", usage: [], options: listenOptions(1) }).values
      .port,
    0,
  );
  assert.match(
    usageError(
      ["-p", "0"],
      { name: "x", summary: "", usage: [], options: connectOptions(1) } as never,
    ),
    /out of range \(1 to 65535\)/,
  );
});

Deno.test("formatHelp lists every flag once, with the common ones last", () => {
  const help = formatHelp(SPEC);
  assert.ok(help.startsWith("demo.ts: A demo.\n\nUsage:\n  deno run demo.ts [options]\n"));
  const flags = help.split("\n").flatMap((line) =>
    line.match(/^ {2}(?:-\w, | {4})(--[\w-]+)/)?.[1] ?? []
  );
  assert.deepEqual(flags, [
    "--host",
    "--port",
    "--rate",
    "--offset",
    "--message",
    "--header",
    "--max-connections",
    "--tls",
    "--help",
    "--quiet",
    "--verbose",
  ]);
  assert.match(help, /-p, --port N +Port to listen on \(0 = any free port\) \(default: 7000\)/);
  assert.match(help, /-h, --help +Show this help and exit\n/);
  assert.match(help, /-v, --verbose +Also log each connection/);
});

Deno.test("logLevel maps --quiet and --verbose to a Logger level", () => {
  assert.equal(logLevel({ quiet: false, verbose: false }), "info");
  assert.equal(logLevel({ quiet: true, verbose: false }), "warn");
  assert.equal(logLevel({ quiet: false, verbose: true }), "debug");
  assert.equal(logLevel({ quiet: true, verbose: true }), "debug");
});
