/**
 * Which local address a UDP client binds for a target, so that traffic to a
 * loopback server stays on loopback (and `--allow-net=127.0.0.1` is enough).
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

/** The local address that keeps traffic to `target` on loopback when `target` is loopback. */
export function defaultLocalHostname(target: string): string {
  if (target.includes(":")) return normaliseIpLiteral(target) === "::1" ? "::1" : "::";
  return target === "localhost" || target.startsWith("127.") ? "127.0.0.1" : "0.0.0.0";
}
