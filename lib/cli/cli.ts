/**
 * Command-line flags for the scripts, on top of the runtime's built-in
 * `parseArgs` from `node:util`: numbers checked and converted, defaults,
 * `--help`, `--quiet` and `--verbose` on every script, "did you mean" for a
 * mistyped flag, and exit code 2 on usage errors.
 *
 * `parseArgs` splits the command line into tokens (it knows `--flag=value`,
 * `-abc` groups and `--`); this module reads those tokens itself instead of
 * letting `parseArgs` reject the line, so that a negative number is a value
 * (`--rate -5`) and every message names the flag as the user typed it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { LogLevel } from "./log.ts";

/** The kinds of value a flag takes. */
export type OptionType = "string" | "boolean" | "integer" | "number";

/** Describes one flag. */
export interface OptionSpec {
  /** The kind of value; `integer` and `number` are checked and converted. */
  type: OptionType;
  /** One line for `--help`. */
  description: string;
  /**
   * A one-letter alias, like `p` for `-p`.
   *
   * @default {undefined}
   */
  short?: string;
  /**
   * The value when the flag is absent. Booleans default to `false`,
   * repeatable flags to `[]`.
   *
   * @default {undefined}
   */
  default?: string | number | boolean | readonly string[];
  /**
   * Accept the flag several times and collect the values in an array.
   *
   * @default {false}
   */
  multiple?: boolean;
  /**
   * The smallest accepted value, for `integer` and `number`.
   *
   * @default {-Infinity}
   */
  min?: number;
  /**
   * The largest accepted value, for `integer` and `number`.
   *
   * @default {Infinity}
   */
  max?: number;
  /**
   * The placeholder shown in `--help`.
   *
   * @default {"N" for numbers, "VALUE" for strings}
   */
  valueName?: string;
}

/** Describes a script's command line. */
export interface CliSpec<O extends Record<string, OptionSpec>> {
  /** The script's file name, as shown in `--help`. */
  name: string;
  /** What the script does, in one or two lines. */
  summary: string;
  /** The exact run command(s), shown under "Usage". */
  usage: readonly string[];
  /** The flags, keyed by long name (kebab case). */
  options: O;
  /** Whether positional arguments are accepted, and how to show them (e.g. `URL`). */
  positionals?: string;
  /** Extra lines shown at the end of `--help`. */
  notes?: readonly string[];
}

/**
 * The parsed value of each flag of `O`. `parseArgs` types every value as a
 * string; the one thing added here is `number` for `integer`/`number` flags.
 */
export type CliValues<O extends Record<string, OptionSpec>> =
  & {
    -readonly [K in keyof O]: O[K] extends { multiple: true } ? Value<O[K]>[]
      : O[K] extends { type: "boolean" } | { default: unknown } ? Value<O[K]>
      : Value<O[K]> | undefined;
  }
  & CommonValues;

type Value<S extends OptionSpec> = S["type"] extends "boolean" ? boolean
  : S["type"] extends "string" ? string
  : number;

/** The flags every script has. */
export interface CommonValues {
  /** `--help`/`-h`: print the help and exit. */
  help: boolean;
  /** `--quiet`/`-q`: print only warnings and errors. */
  quiet: boolean;
  /** `--verbose`/`-v`: also print debug lines (each connection). */
  verbose: boolean;
}

/** What {@linkcode parseCli} returns. */
export interface ParsedCli<O extends Record<string, OptionSpec>> {
  /** The flags' values, defaults applied. */
  values: CliValues<O>;
  /** Positional arguments, in order. */
  positionals: string[];
}

/** A command line that cannot be parsed; scripts print it and exit with code 2. */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the command line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h", description: "Show this help and exit" },
  quiet: { type: "boolean", short: "q", description: "Print only warnings and errors" },
  verbose: {
    type: "boolean",
    short: "v",
    description: "Also log each connection and other details (debug level)",
  },
} as const satisfies Record<string, OptionSpec>;

/** `-5`, `-0.5`, `-1e3`: a value, never a flag. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * Parses a command line against a spec. `--help`, `--quiet` and `--verbose`
 * are added to every spec.
 *
 * @param args The arguments, usually `Deno.args`.
 * @param spec The flags and help text.
 * @returns The typed values and the positionals.
 * @throws {UsageError} On an unknown flag (with "did you mean" when one is
 *   close), a missing or malformed value, a value out of range, or
 *   unexpected positionals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCli } from "./cli.ts";
 *
 * const spec = {
 *   name: "demo.ts",
 *   summary: "A demo.",
 *   usage: ["deno run demo.ts"],
 *   options: {
 *     port: { type: "integer", default: 7000, min: 0, max: 65535, description: "Port" },
 *   },
 * } as const;
 * const { values } = parseCli(["--port", "0"], spec);
 * assert.equal(values.port, 0);
 * assert.equal(values.help, false);
 * assert.throws(() => parseCli(["--prot", "0"], spec), /did you mean --port\?/);
 * ```
 */
export function parseCli<const O extends Record<string, OptionSpec>>(
  args: string[],
  spec: CliSpec<O>,
): ParsedCli<O> {
  const all: Record<string, OptionSpec> = { ...spec.options, ...COMMON_OPTIONS };
  const parseOptions: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, option] of Object.entries(all)) {
    parseOptions[name] = {
      type: option.type === "boolean" ? "boolean" : "string",
      ...(option.short ? { short: option.short } : {}),
    };
  }
  // Not strict: parseArgs only splits the line into tokens, and the checks
  // below phrase every problem, in the user's terms.
  const { tokens } = parseArgs({
    args,
    options: parseOptions,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });

  const raw = new Map<string, (string | boolean)[]>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      if (spec.positionals === undefined) {
        throw new UsageError(`unexpected argument ${token.value}`);
      }
      positionals.push(token.value);
      continue;
    }
    const option = all[token.name];
    if (!option) {
      throw new UsageError(unknownOptionMessage(token.rawName, Object.keys(all)));
    }
    const flag = `--${token.name}`;
    let value: string | boolean;
    if (option.type === "boolean") {
      if (token.inlineValue) throw new UsageError(`option ${flag} takes no value`);
      value = true;
    } else {
      // Without `=`, a value that looks like a flag means the value is missing
      // (`--host --port 7000`); a negative number is still a value.
      const looksLikeFlag = !token.inlineValue && token.value?.startsWith("-") &&
        !NEGATIVE_NUMBER.test(token.value);
      if (token.value === undefined || looksLikeFlag) {
        throw new UsageError(`option ${flag} needs a value`);
      }
      value = token.value;
    }
    const seen = raw.get(token.name) ?? [];
    seen.push(value);
    raw.set(token.name, seen);
  }

  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(all)) {
    const given = raw.get(name);
    if (given === undefined) {
      values[name] = option.multiple
        ? [...(Array.isArray(option.default) ? option.default : [])]
        : option.default ?? (option.type === "boolean" ? false : undefined);
    } else if (option.multiple) {
      values[name] = given.map((item) => convert(name, option, item));
    } else {
      values[name] = convert(name, option, given.at(-1)!);
    }
  }
  return { values: values as CliValues<O>, positionals };
}

function convert(name: string, option: OptionSpec, raw: string | boolean): unknown {
  if (option.type === "boolean" || option.type === "string") return raw;
  const text = String(raw).trim();
  const value = Number(text);
  const ok = text !== "" && Number.isFinite(value) &&
    (option.type === "number" || Number.isInteger(value));
  if (!ok) {
    throw new UsageError(
      `invalid value for --${name}: '${raw}' is not ${
        option.type === "integer" ? "an integer" : "a number"
      }`,
    );
  }
  if (
    option.min !== undefined && value < option.min || option.max !== undefined && value > option.max
  ) {
    throw new UsageError(
      `invalid value for --${name}: ${value} is out of range (${option.min ?? "-∞"} to ${
        option.max ?? "∞"
      })`,
    );
  }
  return value;
}

function unknownOptionMessage(rawName: string, names: string[]): string {
  const typed = rawName.replace(/^--?/, "");
  if (!rawName.startsWith("--")) return `unknown option ${rawName}`;
  // A mistyped letter, a missing one or two swapped ones: at most one edit
  // for short names, two from five letters on.
  const allowed = typed.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const name of names) {
    const distance = editDistance(typed, name);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best === undefined
    ? `unknown option ${rawName}`
    : `unknown option ${rawName} (did you mean --${best}?)`;
}

/** Levenshtein distance where swapping two neighbours counts as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Builds the `--help` text of a spec.
 *
 * @param spec The flags and help text.
 * @returns The help text, ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatHelp } from "./cli.ts";
 *
 * const help = formatHelp({ name: "x.ts", summary: "Does x.", usage: ["deno run x.ts"], options: {} });
 * assert.match(help, /-h, --help/);
 * assert.match(help, /-v, --verbose/);
 * ```
 */
export function formatHelp<O extends Record<string, OptionSpec>>(spec: CliSpec<O>): string {
  const all: Record<string, OptionSpec> = { ...spec.options, ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, option]) => {
    const placeholder = option.type === "boolean"
      ? ""
      : ` ${option.valueName ?? (option.type === "string" ? "VALUE" : "N")}`;
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${placeholder}`;
    const shownDefault = Array.isArray(option.default) ? option.default.join(", ") : option.default;
    const extra = [
      shownDefault !== undefined && shownDefault !== "" && option.type !== "boolean"
        ? `default: ${shownDefault}`
        : "",
      option.multiple ? "repeatable" : "",
    ].filter(Boolean).join("; ");
    return [flag, extra ? `${option.description} (${extra})` : option.description] as const;
  });
  const width = Math.min(32, Math.max(...rows.map(([flag]) => flag.length)) + 2);
  const lines = [
    `${spec.name}: ${spec.summary}`,
    "",
    "Usage:",
    ...spec.usage.map((line) => `  ${line}`),
    "",
    "Options:",
    ...rows.map(([flag, text]) =>
      flag.length + 2 > width
        ? `  ${flag}\n  ${" ".repeat(width)}${text}`
        : `  ${flag.padEnd(width)}${text}`
    ),
  ];
  if (spec.notes?.length) lines.push("", ...spec.notes);
  return lines.join("\n") + "\n";
}

/**
 * Parses the command line like {@linkcode parseCli}, but handles `--help`
 * (prints the help to stdout, exits 0) and usage errors (prints the error and
 * `Run with --help for usage.` to stderr, exits 2), as every script here does.
 *
 * @param args The arguments, usually `Deno.args`.
 * @param spec The flags and help text.
 * @returns The typed values and the positionals.
 *
 * @example
 * ```ts ignore
 * import { parseCliOrExit } from "./cli.ts";
 *
 * const { values } = parseCliOrExit(Deno.args, {
 *   name: "tcp_echo_server.ts",
 *   summary: "Echo every byte back.",
 *   usage: ["deno run --allow-net=127.0.0.1 scripts/tcp_echo_server.ts [options]"],
 *   options: { port: { type: "integer", default: 7000, description: "Port to listen on" } },
 * });
 * ```
 */
export function parseCliOrExit<const O extends Record<string, OptionSpec>>(
  args: string[],
  spec: CliSpec<O>,
): ParsedCli<O> {
  let parsed: ParsedCli<O>;
  try {
    parsed = parseCli(args, spec);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\nRun with --help for usage.`);
    Deno.exit(2);
  }
  if (parsed.values.help) {
    console.log(formatHelp(spec).trimEnd());
    Deno.exit(0);
  }
  return parsed;
}

/**
 * The log level the common flags ask for: `debug` with `--verbose`, `warn`
 * with `--quiet` (when both are given, `--verbose` wins), `info` otherwise.
 *
 * @param values The parsed values, or any object with `quiet` and `verbose`.
 * @returns The level for {@linkcode Logger}'s `level` option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logLevel } from "./cli.ts";
 *
 * assert.equal(logLevel({ quiet: false, verbose: true }), "debug");
 * assert.equal(logLevel({ quiet: true, verbose: false }), "warn");
 * assert.equal(logLevel({ quiet: false, verbose: false }), "info");
 * ```
 */
export function logLevel(values: { quiet: boolean; verbose: boolean }): LogLevel {
  return values.verbose ? "debug" : values.quiet ? "warn" : "info";
}

/**
 * The `--host` and `--port` flags of a server: bind `127.0.0.1` unless told
 * otherwise, and accept port 0 (any free port). Spread into a spec's options.
 *
 * @param defaultPort The server's usual port.
 * @param hostDescription The `--host` line of `--help`, for servers with a warning to give.
 * @returns The two option specs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenOptions, parseCli } from "./cli.ts";
 *
 * const spec = { name: "x.ts", summary: "X.", usage: ["deno run x.ts"], options: listenOptions(7000) };
 * const { values } = parseCli(["-p", "0"], spec);
 * assert.equal(values.host, "127.0.0.1");
 * assert.equal(values.port, 0);
 * ```
 */
export function listenOptions<const P extends number>(
  defaultPort: P,
  hostDescription = "Address to bind (0.0.0.0 or :: to expose it)",
) {
  return {
    host: { type: "string", default: "127.0.0.1", valueName: "HOST", description: hostDescription },
    port: portOption(defaultPort),
  } as const;
}

/**
 * Like {@linkcode listenOptions}, but `--host` may be given several times,
 * one listener per address (`--host 127.0.0.1 --host ::1` for both
 * loopbacks); pair it with `serveHosts` from `lib/net/serve_hosts.ts`.
 *
 * @param defaultPort The server's usual port.
 * @param hostDescription The `--host` line of `--help`.
 * @returns The two option specs; `values.host` is an array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenHostsOptions, parseCli } from "./cli.ts";
 *
 * const spec = { name: "x.ts", summary: "X.", usage: ["deno run x.ts"], options: listenHostsOptions(7000) };
 * assert.deepEqual(parseCli([], spec).values.host, ["127.0.0.1"]);
 * assert.deepEqual(parseCli(["--host", "127.0.0.1", "--host", "::1"], spec).values.host, [
 *   "127.0.0.1",
 *   "::1",
 * ]);
 * ```
 */
export function listenHostsOptions<const P extends number>(
  defaultPort: P,
  hostDescription = "Address to bind; repeat for several (0.0.0.0 or :: to expose it)",
) {
  return {
    host: {
      type: "string",
      multiple: true,
      default: ["127.0.0.1"],
      valueName: "HOST",
      description: hostDescription,
    },
    port: portOption(defaultPort),
  } as const;
}

function portOption<const P extends number>(defaultPort: P) {
  return {
    type: "integer",
    short: "p",
    default: defaultPort,
    min: 0,
    max: 65535,
    description: "Port to listen on (0 = any free port)",
  } as const;
}

/**
 * The `--host` and `--port` flags of a client. Spread into a spec's options.
 *
 * @param defaultPort The server's usual port.
 * @param peer What the client talks to, for `--help` ("Server", "Receiver").
 * @returns The two option specs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectOptions } from "./cli.ts";
 *
 * assert.equal(connectOptions(7000).port.default, 7000);
 * assert.equal(connectOptions(7000).port.short, "p");
 * ```
 */
export function connectOptions<const P extends number>(defaultPort: P, peer = "Server") {
  return {
    host: {
      type: "string",
      default: "127.0.0.1",
      valueName: "HOST",
      description: `${peer} address`,
    },
    port: {
      type: "integer",
      short: "p",
      default: defaultPort,
      min: 1,
      max: 65535,
      description: `${peer} port`,
    },
  } as const;
}
