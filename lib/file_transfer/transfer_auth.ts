/**
 * Proving knowledge of a shared secret without sending it: the
 * challenge-response of the file-transfer protocol.
 *
 * The receiver sends a fresh random nonce; the sender answers with
 * HMAC-SHA-256(secret, nonce + header), where the header is the exact bytes
 * of the `file` frame's payload it sent. The receiver computes the same and
 * compares in constant time. So the secret never crosses the wire, the proof
 * is bound to this transfer's name and size, and a recorded proof is useless
 * against the next connection's nonce (no replay).
 *
 * ```ts ignore
 * // Bad: the secret itself on the wire, readable without TLS and replayable from a capture
 * await writeAll(conn, encodeMessage({ type: "file", ..., secret }));
 * // Good: a proof that depends on a nonce the receiver never reuses
 * const hmac = await signChallenge(key, nonce, header);
 * ```
 *
 * @module
 */

/** Size of the receiver's nonce, in bytes. */
export const NONCE_SIZE = 32;

/** The environment variable both scripts read a secret from. */
export const SECRET_ENV_VAR = "FILE_TRANSFER_SECRET";

/**
 * Imports a shared secret as an HMAC-SHA-256 key that can sign and verify.
 *
 * @param secret The secret, as text (UTF-8) or bytes.
 * @returns The key.
 * @throws {RangeError} If the secret is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importSecret } from "./transfer_auth.ts";
 *
 * const key = await importSecret("correct horse battery staple");
 * assert.equal(key.algorithm.name, "HMAC");
 * await assert.rejects(importSecret(""), RangeError);
 * ```
 */
export async function importSecret(secret: string | Uint8Array): Promise<CryptoKey> {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  if (bytes.length === 0) throw new RangeError("Cannot use the secret: it is empty");
  return await crypto.subtle.importKey(
    "raw",
    new Uint8Array(bytes),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/**
 * Makes a fresh random nonce for one connection's challenge.
 *
 * @returns {@linkcode NONCE_SIZE} random bytes from the system's CSPRNG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNonce, NONCE_SIZE } from "./transfer_auth.ts";
 *
 * assert.equal(createNonce().length, NONCE_SIZE);
 * assert.notDeepEqual(createNonce(), createNonce());
 * ```
 */
export function createNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
}

/**
 * Computes the sender's proof: HMAC-SHA-256 keyed with the secret over the
 * nonce followed by the header frame's payload.
 *
 * @param key The secret, from {@linkcode importSecret}.
 * @param nonce The receiver's nonce.
 * @param header The `file` frame's payload, exactly as sent.
 * @returns The 32-byte HMAC.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNonce, importSecret, signChallenge } from "./transfer_auth.ts";
 *
 * const key = await importSecret("s3cret");
 * const header = new TextEncoder().encode('{"type":"file","version":1,"name":"a","size":1}');
 * const proof = await signChallenge(key, createNonce(), header);
 * assert.equal(proof.length, 32);
 * ```
 */
export async function signChallenge(
  key: CryptoKey,
  nonce: Uint8Array,
  header: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, challengeInput(nonce, header)));
}

/**
 * Checks a sender's proof. `crypto.subtle.verify` recomputes the HMAC and
 * compares it in constant time, so the time taken says nothing about how
 * many leading bytes of a guess were right.
 *
 * @param key The secret, from {@linkcode importSecret}.
 * @param nonce The nonce this connection's challenge carried.
 * @param header The `file` frame's payload, exactly as received.
 * @param proof The sender's HMAC.
 * @returns True if the proof is right for this nonce and header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNonce, importSecret, signChallenge, verifyChallenge } from "./transfer_auth.ts";
 *
 * const key = await importSecret("s3cret");
 * const header = new TextEncoder().encode('{"type":"file","version":1,"name":"a","size":1}');
 * const nonce = createNonce();
 * const proof = await signChallenge(key, nonce, header);
 * assert.equal(await verifyChallenge(key, nonce, header, proof), true);
 * // The same proof against a new connection's nonce: a replay, refused.
 * assert.equal(await verifyChallenge(key, createNonce(), header, proof), false);
 * const wrong = await importSecret("guess");
 * assert.equal(await verifyChallenge(key, nonce, header, await signChallenge(wrong, nonce, header)), false);
 * ```
 */
export async function verifyChallenge(
  key: CryptoKey,
  nonce: Uint8Array,
  header: Uint8Array,
  proof: Uint8Array,
): Promise<boolean> {
  return await crypto.subtle.verify(
    "HMAC",
    key,
    new Uint8Array(proof),
    challengeInput(nonce, header),
  );
}

function challengeInput(nonce: Uint8Array, header: Uint8Array): Uint8Array<ArrayBuffer> {
  const input = new Uint8Array(nonce.length + header.length);
  input.set(nonce);
  input.set(header, nonce.length);
  return input;
}

/** Where {@linkcode resolveSecret} looks for a secret. */
export interface SecretSources {
  /** The `--secret TEXT` flag (visible in `ps`: prefer the other two). */
  secret?: string;
  /** The `--secret-file PATH` flag: the file's text, without its trailing newline. */
  secretFile?: string;
  /**
   * Read {@linkcode SECRET_ENV_VAR} when neither flag is given and the
   * runtime was granted `--allow-env=FILE_TRANSFER_SECRET` (it is not
   * prompted for).
   *
   * @default {true}
   */
  env?: boolean;
}

/**
 * Finds the secret a script was given: `--secret`, `--secret-file`, or the
 * `FILE_TRANSFER_SECRET` environment variable, in that order.
 *
 * @param sources The flags' values.
 * @returns The secret, or `undefined` when none was given.
 * @throws {TypeError} If both flags are given, or the secret is empty.
 * @throws {Error} If the secret file cannot be read; the message says what to do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSecret } from "./transfer_auth.ts";
 *
 * assert.equal(await resolveSecret({ secret: "s3cret" }), "s3cret");
 * assert.equal(await resolveSecret({ env: false }), undefined);
 * await assert.rejects(resolveSecret({ secret: "" }), TypeError);
 * ```
 */
export async function resolveSecret(sources: SecretSources): Promise<string | undefined> {
  if (sources.secret !== undefined && sources.secretFile !== undefined) {
    throw new TypeError("Cannot read the secret: give --secret or --secret-file, not both");
  }
  let secret: string | undefined;
  let from = "--secret";
  if (sources.secret !== undefined) {
    secret = sources.secret;
  } else if (sources.secretFile !== undefined) {
    const path = sources.secretFile;
    from = `--secret-file ${path}`;
    try {
      secret = (await Deno.readTextFile(path)).replace(/\r?\n$/, "");
    } catch (error) {
      const advice = error instanceof Deno.errors.NotCapable
        ? `run with --allow-read=${path}`
        : error instanceof Deno.errors.NotFound
        ? "no such file"
        : (error as Error).message;
      throw new Error(`Cannot read --secret-file ${path}: ${advice}`, { cause: error });
    }
  } else if (
    (sources.env ?? true) &&
    Deno.permissions.querySync({ name: "env", variable: SECRET_ENV_VAR }).state === "granted"
  ) {
    from = SECRET_ENV_VAR;
    secret = Deno.env.get(SECRET_ENV_VAR);
  }
  if (secret !== undefined && secret.length === 0) {
    throw new TypeError(`Cannot read the secret: ${from} is empty`);
  }
  return secret;
}
