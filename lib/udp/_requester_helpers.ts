/**
 * Private helpers of `datagram_requester.ts`: which local address to bind
 * for a target, and checks of its timing options.
 *
 * @module
 */

/** Normalises an IP literal the way the runtime reports addresses (`::0001` → `::1`). */
export function normaliseIpLiteral(hostname: string): string | undefined {
  const isV4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);
  const isV6 = hostname.includes(":");
  if (!isV4 && !isV6) return undefined;
  try {
    const host = new URL(`udp://${isV6 ? `[${hostname}]` : hostname}`).hostname;
    return isV6 ? host.slice(1, -1) : host;
  } catch {
    return undefined;
  }
}

/** The local address to bind for `target`: loopback for a loopback target, else the wildcard. */
export function defaultLocalHostname(target: string): string {
  if (target.includes(":")) return normaliseIpLiteral(target) === "::1" ? "::1" : "::";
  return target === "localhost" || target.startsWith("127.") ? "127.0.0.1" : "0.0.0.0";
}

/** Checks a request's timeout (ms, positive) and retries (a non-negative integer). */
export function checkTimeoutAndRetries(timeout: number, retries: number): void {
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new RangeError(`Cannot send request: timeout ${timeout} is not a positive number of ms`);
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`Cannot send request: retries ${retries} is not a non-negative integer`);
  }
}
