/**
 * Unique, validated nicknames.
 *
 * @module
 */

/** Options for {@linkcode NickRegistry}. */
export interface NickRegistryOptions {
  /**
   * The longest nick allowed, in characters.
   *
   * @default {20}
   */
  maxLength?: number;
}

/** Nicks are ASCII, so that look-alike letters from other scripts cannot impersonate anyone. */
const NICK_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Who owns which nick. Nicks are unique ignoring ASCII case (`Alice` and
 * `alice` are the same nick) and keep the spelling their owner chose.
 * A nick is a letter followed by letters, digits, `_` or `-`.
 *
 * @typeParam T The owner type, e.g. a chat session.
 *
 * @example
 * ```ts
 * import { NickRegistry } from "./nick_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const nicks = new NickRegistry<string>();
 * assert.notEqual(nicks.validate("bad nick!"), undefined);
 * assert.equal(nicks.claim("Alice", "session 1"), true);
 * assert.equal(nicks.claim("alice", "session 2"), false); // taken, ignoring case
 * assert.equal(nicks.get("ALICE"), "session 1");
 * ```
 */
export class NickRegistry<T> {
  #maxLength: number;
  /** Lower-cased nick → owner. */
  #owners = new Map<string, T>();

  /**
   * Creates an empty registry.
   *
   * @param options The length limit.
   * @throws {RangeError} If `maxLength` is not a positive integer.
   */
  constructor(options: NickRegistryOptions = {}) {
    const maxLength = options.maxLength ?? 20;
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new RangeError(
        `Cannot create NickRegistry: maxLength ${maxLength} is not a positive integer`,
      );
    }
    this.#maxLength = maxLength;
  }

  /** How many nicks are taken. */
  get size(): number {
    return this.#owners.size;
  }

  /**
   * Checks the form of `nick` (not whether it is free).
   *
   * @param nick The requested nick.
   * @returns `undefined` if valid, otherwise the reason, e.g.
   * `nick "1abc" must start with a letter`.
   */
  validate(nick: string): string | undefined {
    if (nick.length === 0) return "nick is empty";
    if (nick.length > this.#maxLength) {
      return `nick is ${nick.length} characters long, the limit is ${this.#maxLength}`;
    }
    if (!NICK_PATTERN.test(nick)) {
      return /^[A-Za-z]/.test(nick)
        ? `nick "${nick}" may contain only letters, digits, _ and -`
        : `nick "${nick}" must start with a letter`;
    }
    return undefined;
  }

  /**
   * Gives `nick` to `owner` if it is free or already theirs (under any case).
   * Does not validate: call {@linkcode NickRegistry.validate} first.
   *
   * @param nick The nick.
   * @param owner Who takes it.
   * @returns `true` if `owner` now holds the nick, `false` if someone else does.
   */
  claim(nick: string, owner: T): boolean {
    const key = nick.toLowerCase();
    const current = this.#owners.get(key);
    if (current !== undefined && current !== owner) return false;
    this.#owners.set(key, owner);
    return true;
  }

  /**
   * Frees `nick` if `owner` holds it.
   *
   * @param nick The nick, in any case.
   * @param owner The owner releasing it.
   */
  release(nick: string, owner: T): void {
    const key = nick.toLowerCase();
    if (this.#owners.get(key) === owner) this.#owners.delete(key);
  }

  /**
   * Finds the owner of `nick`, ignoring case.
   *
   * @param nick The nick to look up.
   * @returns The owner, or `undefined` if the nick is free.
   */
  get(nick: string): T | undefined {
    return this.#owners.get(nick.toLowerCase());
  }
}
