/**
 * The `--bench` flags every client shares (`--size`, `--in-flight`, `--duration`, `--warmup`,
 * `--json`, and `--connections` for the connection-oriented ones), and the client's own CPU use
 * during a run, so the three clients read the same and print comparable figures.
 *
 * @module
 */

import process from "node:process";

/** Defaults and limits for {@linkcode benchOptions}. */
export interface BenchOptionDefaults {
  /**
   * Default `--size`, in bytes.
   *
   * @default {64}
   */
  size?: number;
  /**
   * Smallest `--size` (a probe header, for UDP).
   *
   * @default {1}
   */
  minSize?: number;
  /**
   * Largest `--size`.
   *
   * @default {16777216}
   */
  maxSize?: number;
  /**
   * Default `--in-flight`.
   *
   * @default {1}
   */
  inFlight?: number;
  /**
   * Largest `--in-flight`.
   *
   * @default {4096}
   */
  maxInFlight?: number;
}

/**
 * The option specs of a client's bench mode, for a `parseCli` spec: `--bench`, `--size`,
 * `--in-flight`, `--duration`, `--warmup` and `--json`.
 *
 * @param defaults Per-protocol defaults and limits.
 * @returns The option specs, to spread into a spec's `options`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { benchOptions } from "./bench_options.ts";
 *
 * const options = benchOptions({ inFlight: 16 });
 * assert.equal(options["in-flight"].default, 16);
 * assert.equal(options.json.type, "boolean");
 * ```
 */
export function benchOptions(defaults: BenchOptionDefaults = {}) {
  return {
    bench: { type: "boolean", description: "Measure throughput and latency instead" },
    size: {
      type: "integer",
      short: "s",
      default: defaults.size ?? 64,
      min: defaults.minSize ?? 1,
      max: defaults.maxSize ?? 16_777_216,
      valueName: "BYTES",
      description: "--bench: message size",
    },
    "in-flight": {
      type: "integer",
      short: "d",
      default: defaults.inFlight ?? 1,
      min: 1,
      max: defaults.maxInFlight ?? 4096,
      description: "--bench: messages in flight (per connection)",
    },
    duration: {
      type: "number",
      short: "t",
      default: 5,
      min: 0.1,
      max: 600,
      valueName: "SECONDS",
      description: "--bench: measuring time",
    },
    warmup: {
      type: "number",
      default: 0.5,
      min: 0,
      max: 60,
      valueName: "SECONDS",
      description: "--bench: time before measuring",
    },
    json: { type: "boolean", description: "Print the result as one JSON object" },
  } as const;
}

/**
 * The `--connections` flag of a connection-oriented client's bench mode.
 *
 * @param defaultCount The default number of connections.
 * @param max The largest accepted number.
 * @returns The option spec, to put under `connections` in a spec's `options`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionsOption } from "./bench_options.ts";
 *
 * assert.equal(connectionsOption(10).default, 10);
 * ```
 */
export function connectionsOption(defaultCount: number, max = 20_000) {
  return {
    type: "integer",
    short: "c",
    default: defaultCount,
    min: 1,
    max,
    description: "--bench: connections",
  } as const;
}

/**
 * Runs `load` and reports this process's CPU use meanwhile, as a share of one core: on a
 * 2-core machine it tells whether a figure measured the server or the client.
 *
 * @param load The bench run.
 * @returns What `load` returned, and `clientCpu` (1 = one core busy all the time).
 * @throws {Error} Whatever `load` throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withClientCpu } from "./bench_options.ts";
 *
 * const { result, clientCpu } = await withClientCpu(() => Promise.resolve(42));
 * assert.equal(result, 42);
 * assert.ok(clientCpu >= 0);
 * ```
 */
export async function withClientCpu<T>(
  load: () => Promise<T>,
): Promise<{ result: T; clientCpu: number }> {
  const before = process.cpuUsage();
  const started = performance.now();
  const result = await load();
  const seconds = Math.max((performance.now() - started) / 1000, 1e-6);
  const cpu = process.cpuUsage(before);
  return { result, clientCpu: (cpu.user + cpu.system) / 1e6 / seconds };
}
