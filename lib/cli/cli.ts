/**
 * Command-line flags for the scripts, on top of the runtime's built-in
 * `parseArgs` from `node:util`: typed values, defaults, range checks,
 * `--help` and `--quiet` on every script, and exit code 2 on usage errors.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The kinds of value a flag takes. */
export type OptionType = "string" | "boolean" | "integer" | "number";

/** Describes one flag. */
export interface OptionSpec {
  /** The kind of value; `integer` and `number` are checked and converted. */
  type: OptionType;
  /** One line for `--help`. */
  description: string;
  /** A one-letter alias, like `p` for `-p`. */
  short?: string;
  /** The value when the flag is absent. Booleans default to `false`. */
  default?: string | number | boolean;
  /**
   * Accept the flag several times and collect the values in an array.
   *
   * @default {false}
   */
  multiple?: boolean;
  /** The smallest accepted value, for `integer` and `number`. */
  min?: number;
  /** The largest accepted value, for `integer` and `number`. */
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

/** The value type of one flag: `boolean`, `string` or `number`. */
export type ValueOf<S extends OptionSpec> = S["type"] extends "boolean" ? boolean
  : S["type"] extends "string" ? string
  : number;

/** The parsed values of a {@linkcode CliSpec}'s flags, typed from the spec. */
export type CliValues<O extends Record<string, OptionSpec>> =
  & {
    -readonly [K in keyof O]: O[K] extends { multiple: true } ? ValueOf<O[K]>[]
      : O[K] extends { type: "boolean" } ? boolean
      : O[K] extends { default: string | number } ? ValueOf<O[K]>
      : ValueOf<O[K]> | undefined;
  }
  & { help: boolean; quiet: boolean };

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
} as const satisfies Record<string, OptionSpec>;

/**
 * Parses a command line against a spec. `--help` and `--quiet` are added to
 * every spec.
 *
 * @param args The arguments, usually `Deno.args`.
 * @param spec The flags and help text.
 * @returns The typed values and the positionals.
 * @throws {UsageError} On an unknown flag, a missing or malformed value, a
 *   value out of range, or unexpected positionals.
 *
 * @example
 * ```ts
 * import { parseCli } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const { values } = parseCli(["--port", "0"], {
 *   name: "demo.ts",
 *   summary: "A demo.",
 *   usage: ["deno run demo.ts"],
 *   options: {
 *     port: { type: "integer", default: 7000, min: 0, max: 65535, description: "Port" },
 *   },
 * });
 * assert.equal(values.port, 0);
 * assert.equal(values.help, false);
 * ```
 */
export function parseCli<const O extends Record<string, OptionSpec>>(
  args: string[],
  spec: CliSpec<O>,
): ParsedCli<O> {
  const all: Record<string, OptionSpec> = { ...spec.options, ...COMMON_OPTIONS };
  const parseOptions: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, option] of Object.entries(all)) {
    parseOptions[name] = {
      type: option.type === "boolean" ? "boolean" : "string",
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }

  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: parseOptions,
      allowPositionals: spec.positionals !== undefined,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }

  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(all)) {
    const raw = (parsed.values as Record<string, string | boolean | (string | boolean)[]>)[name];
    if (raw === undefined) {
      values[name] = option.multiple
        ? []
        : option.default ?? (option.type === "boolean" ? false : undefined);
    } else if (Array.isArray(raw)) {
      values[name] = raw.map((item) => convert(name, option, item));
    } else {
      values[name] = convert(name, option, raw);
    }
  }
  return { values: values as CliValues<O>, positionals: parsed.positionals };
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

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const flag = message.match(/'(-[^']*)'/)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${flag}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return `unexpected argument ${message.match(/'([^']*)'/)?.[1] ?? ""}`.trimEnd();
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = message.match(/--([\w-]+)/)?.[1];
    return name ? `option --${name} needs a value` : message;
  }
  return message;
}

/**
 * Builds the `--help` text of a spec.
 *
 * @param spec The flags and help text.
 * @returns The help text, ending with a newline.
 *
 * @example
 * ```ts
 * import { formatHelp } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const help = formatHelp({ name: "x.ts", summary: "Does x.", usage: ["deno run x.ts"], options: {} });
 * assert.match(help, /--help/);
 * ```
 */
export function formatHelp<O extends Record<string, OptionSpec>>(spec: CliSpec<O>): string {
  const all: Record<string, OptionSpec> = { ...spec.options, ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, option]) => {
    const placeholder = option.type === "boolean"
      ? ""
      : ` ${option.valueName ?? (option.type === "string" ? "VALUE" : "N")}`;
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${placeholder}`;
    const extra = [
      option.default !== undefined && option.type !== "boolean" ? `default: ${option.default}` : "",
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
 * a hint to stderr, exits 2), as every script here does.
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
 * The `--host` and `--port` flags of a server: bind `127.0.0.1` unless told
 * otherwise, and accept port 0 (any free port). Spread into a spec's options.
 *
 * @param defaultPort The server's usual port.
 * @param hostDescription The `--host` line of `--help`, for servers with a warning to give.
 * @returns The two option specs.
 *
 * @example
 * ```ts
 * import { listenOptions, parseCli } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const spec = { name: "x.ts", summary: "X.", usage: ["deno run x.ts"], options: listenOptions(7000) };
 * const { values } = parseCli(["--port", "0"], spec);
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
    port: {
      type: "integer",
      short: "p",
      default: defaultPort,
      min: 0,
      max: 65535,
      description: "Port to listen on (0 = any free port)",
    },
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
 * import { connectOptions } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(connectOptions(7000).port.default, 7000);
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
