/**
 * What {@linkcode RedisRelay} says to Redis and how it checks what comes back:
 * the Lua scripts that make a check and an update one atomic step, and the
 * guards on replies (another server's text is checked like input). Private to
 * the chat package.
 *
 * @module
 */

import type { ChatRelayLine } from "./chat_relay.ts";
import type { RespValue } from "../redis/resp_decoder.ts";

/**
 * Refreshes a nick this server holds, or takes it back if it expired (Redis restarted);
 * 0 if another server holds it now. One script, so the check and the update are atomic.
 */
export const REFRESH_NICK = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
/** Deletes a nick only if this server holds it: a plain DEL could free someone else's. */
export const RELEASE_NICK = `if redis.call('GET', KEYS[1]) == ARGV[1] then
return redis.call('DEL', KEYS[1]) end return 0`;
/**
 * Keeps a message in its room's capped history and publishes it, in one atomic command: one
 * reply to read instead of four (in `deno task bench:scale` runs a minute apart, 0.7-0.9 us of
 * CPU per delivery instead of 0.9-1.1 for one server through Redis).
 */
export const SAY = `redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('PUBLISH', ARGV[4], ARGV[5])`;

/** A string fit for one chat line: what another server sends is checked like input. */
export function isLine(text: unknown): text is string {
  return typeof text === "string" && text.length <= 65_536 && !/[\r\n]/.test(text);
}

/** The string items of an array reply; anything else is skipped. */
export function strings(reply: RespValue): string[] {
  return Array.isArray(reply)
    ? reply.filter((item): item is string => typeof item === "string")
    : [];
}

/** History entries are JSON `{id, text}`; anything else in the list is skipped. */
export function parseHistory(reply: RespValue): ChatRelayLine[] {
  const lines: ChatRelayLine[] = [];
  for (const entry of strings(reply)) {
    try {
      const { id, text } = JSON.parse(entry);
      if (typeof id === "string" && isLine(text)) {
        lines.push({ id, text });
      }
    } catch {
      // Not one of ours.
    }
  }
  return lines;
}
