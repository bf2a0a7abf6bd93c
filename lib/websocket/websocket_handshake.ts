/**
 * The server side of the WebSocket opening handshake (RFC 6455 §4.2): checking an upgrade
 * request, choosing a subprotocol, applying an Origin policy and building the 101 response.
 *
 * @module
 */

import { HttpError } from "../http/http_error.ts";
import type { HttpRequestHead } from "../http/http_request_head.ts";
import { encodeHttpResponse } from "../http/http_response.ts";
import {
  negotiatePerMessageDeflate,
  type PerMessageDeflate,
  type PerMessageDeflateOptions,
} from "./websocket_deflate.ts";

/** The GUID that RFC 6455 §1.3 appends to the client's key before hashing. */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * Decides whether a request from a page at `origin` may open a WebSocket.
 *
 * @param origin The `Origin` header, or `null` when absent (non-browser clients).
 * @param head The whole request head, for policies that look at `Host` or the path.
 * @returns `true` to accept the request, `false` to refuse it with 403.
 */
export type OriginPolicy = (origin: string | null, head: HttpRequestHead) => boolean;

/** Options for {@linkcode acceptWebSocket}. */
export interface AcceptWebSocketOptions {
  /**
   * Subprotocols the server speaks, in order of preference. The first one the client offers is
   * selected; when none matches, the handshake succeeds without a subprotocol (the client then
   * decides whether to go on), as RFC 6455 §4.2.2 describes.
   *
   * @default {[]}
   */
  protocols?: string[];
  /**
   * The Origin policy. Browsers send `Origin` with every WebSocket request and apply no
   * same-origin rule themselves, so without a check any web page can open a connection with the
   * user's cookies ("cross-site WebSocket hijacking").
   *
   * @default {createOriginPolicy([])} (same host only, or no Origin at all)
   */
  originPolicy?: OriginPolicy;
  /**
   * permessage-deflate (RFC 7692): its options, or `false` to turn it off. When the client
   * offers it (browsers and most libraries do), the response accepts it with no context
   * takeover on either side; pass the agreed parameters to the connection (as
   * `upgradeWebSocket` does), or it will refuse the compressed messages the client may send.
   *
   * @default {{}} (on, with the defaults of {@linkcode PerMessageDeflateOptions})
   */
  perMessageDeflate?: PerMessageDeflateOptions | false;
}

/** The outcome of a successful {@linkcode acceptWebSocket}. */
export interface AcceptedWebSocket {
  /** The selected subprotocol, or `undefined` when none was. */
  protocol: string | undefined;
  /** The `101 Switching Protocols` response to write before any frame. */
  response: Uint8Array;
  /**
   * The permessage-deflate parameters agreed, for `WebSocketConnectionOptions.perMessageDeflate`,
   * or `undefined` when the client did not offer it, it is turned off, or no offer was acceptable.
   */
  perMessageDeflate: PerMessageDeflate | undefined;
}

/**
 * Computes `Sec-WebSocket-Accept` from `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
 *
 * @param key The client's `Sec-WebSocket-Key`.
 * @returns The value for the `Sec-WebSocket-Accept` response header.
 *
 * @example Usage: the example of RFC 6455 §1.3
 * ```ts
 * import { computeAcceptKey } from "./websocket_handshake.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 * ```
 */
export async function computeAcceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key + WEBSOCKET_GUID),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * Reports whether a request asks to upgrade to WebSocket (`Upgrade: websocket`). Other requests
 * are plain HTTP, such as a browser loading the page that opens the WebSocket.
 *
 * @param head The request head.
 * @returns `true` if the `Upgrade` header lists `websocket`.
 *
 * @example Usage
 * ```ts
 * import { isWebSocketUpgrade } from "./websocket_handshake.ts";
 * import assert from "node:assert/strict";
 *
 * const head = { method: "GET", target: "/", version: "HTTP/1.1", headers: new Headers({ Upgrade: "websocket" }) };
 * assert.equal(isWebSocketUpgrade(head), true);
 * ```
 */
export function isWebSocketUpgrade(head: HttpRequestHead): boolean {
  return hasToken(head.headers.get("upgrade"), "websocket");
}

/**
 * Checks a WebSocket upgrade request and builds the `101 Switching Protocols` response.
 *
 * Routing (which paths accept WebSockets) is left to the caller, who answers 404 itself.
 *
 * @param head The request head.
 * @param options Subprotocols, Origin policy and permessage-deflate.
 * @returns The selected subprotocol, the response bytes and the agreed permessage-deflate
 * parameters.
 * @throws {HttpError} 400 for a malformed upgrade, 403 when the Origin policy refuses, 426 for a
 * `Sec-WebSocket-Version` other than 13 (with `Sec-WebSocket-Version: 13` to tell the client).
 * @throws {RangeError} If a permessage-deflate option is out of range.
 *
 * @example Usage: the handshake of RFC 6455 §1.3
 * ```ts
 * import { acceptWebSocket } from "./websocket_handshake.ts";
 * import assert from "node:assert/strict";
 *
 * const { response } = await acceptWebSocket({
 *   method: "GET",
 *   target: "/chat",
 *   version: "HTTP/1.1",
 *   headers: new Headers({
 *     Host: "server.example.com",
 *     Upgrade: "websocket",
 *     Connection: "Upgrade",
 *     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "Sec-WebSocket-Version": "13",
 *   }),
 * });
 * assert.match(new TextDecoder().decode(response), /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
 * ```
 */
export async function acceptWebSocket(
  head: HttpRequestHead,
  options: AcceptWebSocketOptions = {},
): Promise<AcceptedWebSocket> {
  const { protocols = [], originPolicy = createOriginPolicy([]), perMessageDeflate = {} } = options;
  const { headers } = head;
  if (head.method !== "GET" || head.version !== "HTTP/1.1") {
    throw new HttpError(400, "Cannot upgrade: a WebSocket handshake is a GET over HTTP/1.1");
  }
  if (!headers.has("host")) throw new HttpError(400, "Cannot upgrade: the Host header is missing");
  if (!isWebSocketUpgrade(head)) {
    throw new HttpError(400, "Cannot upgrade: the Upgrade header does not name websocket");
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    throw new HttpError(400, "Cannot upgrade: the Connection header does not name Upgrade");
  }
  const version = headers.get("sec-websocket-version");
  if (version !== "13") {
    throw new HttpError(
      426,
      `Cannot upgrade: Sec-WebSocket-Version ${version ?? "(missing)"} is not supported, use 13`,
      { "Sec-WebSocket-Version": "13" },
    );
  }
  const key = headers.get("sec-websocket-key");
  if (key === null || !isNonce(key)) {
    throw new HttpError(400, "Cannot upgrade: Sec-WebSocket-Key is not 16 bytes in base64");
  }
  if (!originPolicy(headers.get("origin"), head)) {
    throw new HttpError(403, `Cannot upgrade: origin ${headers.get("origin")} is not allowed`);
  }
  const protocol = selectSubprotocol(headers.get("sec-websocket-protocol"), protocols);
  const responseHeaders: Record<string, string> = {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Accept": await computeAcceptKey(key),
  };
  if (protocol !== undefined) responseHeaders["Sec-WebSocket-Protocol"] = protocol;
  const deflate = perMessageDeflate === false
    ? undefined
    : negotiatePerMessageDeflate(headers.get("sec-websocket-extensions"), perMessageDeflate);
  if (deflate) responseHeaders["Sec-WebSocket-Extensions"] = deflate.header;
  return {
    protocol,
    response: encodeHttpResponse(101, { headers: responseHeaders }),
    perMessageDeflate: deflate?.params,
  };
}

/**
 * Chooses the subprotocol: the first one offered by the client that the server supports.
 *
 * @param offered The `Sec-WebSocket-Protocol` request header (comma-separated), or `null`.
 * @param supported The subprotocols the server speaks.
 * @returns The selected subprotocol, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { selectSubprotocol } from "./websocket_handshake.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(selectSubprotocol("v2.chat, v1.chat", ["v1.chat"]), "v1.chat");
 * assert.equal(selectSubprotocol("mqtt", ["v1.chat"]), undefined);
 * ```
 */
export function selectSubprotocol(
  offered: string | null,
  supported: readonly string[],
): string | undefined {
  if (offered === null) return undefined;
  return offered.split(",").map((p) => p.trim()).find((p) => supported.includes(p));
}

/**
 * Creates the usual Origin policy: accept requests without `Origin` (not from a browser),
 * requests whose `Origin` names the same host and port as the `Host` header, and the listed
 * origins; `"*"` in the list accepts every origin.
 *
 * @param allowedOrigins Extra origins to accept, exactly as browsers send them
 * (`https://example.com`, `http://localhost:3000`), or `"*"`.
 * @returns A policy for {@linkcode AcceptWebSocketOptions.originPolicy}.
 *
 * @example Usage
 * ```ts
 * import { createOriginPolicy } from "./websocket_handshake.ts";
 * import assert from "node:assert/strict";
 *
 * const policy = createOriginPolicy(["https://app.example"]);
 * const head = { method: "GET", target: "/", version: "HTTP/1.1", headers: new Headers({ Host: "127.0.0.1:8080" }) };
 * assert.equal(policy("http://127.0.0.1:8080", head), true);
 * assert.equal(policy("https://app.example", head), true);
 * assert.equal(policy("https://evil.example", head), false);
 * assert.equal(policy(null, head), true);
 * ```
 */
export function createOriginPolicy(allowedOrigins: readonly string[]): OriginPolicy {
  const anyOrigin = allowedOrigins.includes("*");
  const allowed = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  return (origin, head) => {
    if (origin === null || anyOrigin || allowed.has(origin.toLowerCase())) return true;
    return isSameHost(origin, head.headers.get("host"));
  };
}

/** Compares an Origin's host and port with a Host header, filling in the scheme's default port. */
function isSameHost(origin: string, host: string | null): boolean {
  if (host === null || !URL.canParse(origin)) return false;
  const originUrl = new URL(origin);
  if (!URL.canParse(`${originUrl.protocol}//${host}`)) return false;
  const hostUrl = new URL(`${originUrl.protocol}//${host}`);
  // URL drops a port that is the scheme's default, so "a:80" and "a" compare equal for http.
  return originUrl.host === hostUrl.host;
}

/** Reports whether a comma-separated header lists `token`, ignoring case. */
function hasToken(header: string | null, token: string): boolean {
  if (header === null) return false;
  return header.split(",").some((part) => part.trim().toLowerCase() === token);
}

/** Reports whether `key` is base64 for exactly 16 bytes, as RFC 6455 §4.1 requires. */
function isNonce(key: string): boolean {
  return /^[A-Za-z0-9+/]{22}==$/.test(key);
}
