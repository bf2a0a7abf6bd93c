/**
 * Reading a server's TLS certificate and key from the files named on the
 * command line, with errors that say what to do.
 *
 * @module
 */

import { UsageError } from "./cli.ts";
import type { TlsCertifiedKey } from "../tcp/tls_certified_key.ts";

/**
 * The `--tls-cert` and `--tls-key` flags every server here accepts; spread
 * them into a {@linkcode CliSpec}'s options.
 *
 * @example
 * ```ts
 * import { TLS_SERVER_OPTIONS } from "./tls_files.ts";
 * import assert from "node:assert/strict";
 *
 * const options = { port: { type: "integer", description: "Port" }, ...TLS_SERVER_OPTIONS } as const;
 * assert.ok("tls-cert" in options);
 * ```
 */
export const TLS_SERVER_OPTIONS = {
  "tls-cert": {
    type: "string",
    valueName: "FILE",
    description: "PEM certificate chain: serve TLS (needs --tls-key and --allow-read for both)",
  },
  "tls-key": { type: "string", valueName: "FILE", description: "PEM private key for --tls-cert" },
} as const;

/**
 * The `--tls` and `--ca` flags of a client that can speak TLS; spread them
 * into a {@linkcode CliSpec}'s options and read `--ca` with {@linkcode readCaFile}.
 *
 * @example
 * ```ts
 * import { TLS_CLIENT_OPTIONS } from "./tls_files.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TLS_CLIENT_OPTIONS.tls.type, "boolean");
 * assert.equal(TLS_CLIENT_OPTIONS.ca.valueName, "FILE");
 * ```
 */
export const TLS_CLIENT_OPTIONS = {
  tls: { type: "boolean", description: "Connect with TLS" },
  ca: {
    type: "string",
    valueName: "FILE",
    description: "Trust this PEM certificate (for a self-signed server)",
  },
} as const;

/**
 * Reads a PEM certificate chain and private key, or returns `undefined` when
 * neither file is given (serve plain TCP).
 *
 * @param certFile The `--tls-cert` value.
 * @param keyFile The `--tls-key` value.
 * @returns The PEM texts for `serveTcp`'s `tls` option, or `undefined`.
 * @throws {UsageError} If only one of the two is given.
 * @throws {Error} If a file cannot be read; the message names it and, for a
 *   missing permission, the `--allow-read` flag to add.
 *
 * @example
 * ```ts ignore
 * import { readTlsFiles } from "./tls_files.ts";
 *
 * const tls = await readTlsFiles("tests/fixtures/localhost.crt", "tests/fixtures/localhost.key");
 * ```
 */
export async function readTlsFiles(
  certFile: string | undefined,
  keyFile: string | undefined,
): Promise<TlsCertifiedKey | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  return { cert: await readPem(certFile, "certificate"), key: await readPem(keyFile, "key") };
}

/**
 * Reads a PEM file of CA certificates to trust (a client's `--ca FILE`).
 *
 * @param caFile The file, or `undefined`.
 * @returns A one-element array for `caCerts`, or `undefined`.
 * @throws {Error} If the file cannot be read; the message says how to fix it.
 *
 * @example
 * ```ts ignore
 * import { readCaFile } from "./tls_files.ts";
 *
 * const caCerts = await readCaFile("tests/fixtures/ca.crt");
 * ```
 */
export async function readCaFile(caFile: string | undefined): Promise<string[] | undefined> {
  return caFile === undefined ? undefined : [await readPem(caFile, "CA certificate")];
}

async function readPem(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(`cannot read the TLS ${what} ${file}: run with --allow-read=${file}`);
    }
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`cannot read the TLS ${what} ${file}: no such file`);
    }
    throw new Error(`cannot read the TLS ${what} ${file}: ${(error as Error).message}`);
  }
  if (!text.includes("-----BEGIN ")) {
    throw new Error(`cannot use ${file} as the TLS ${what}: it is not PEM (no -----BEGIN line)`);
  }
  return text;
}
