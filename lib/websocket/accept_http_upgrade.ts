/**
 * The HTTP front door of a WebSocket server: read one request head, serve a page or refuse in
 * plain text, or upgrade.
 *
 * @module
 */

import { ChunkReader } from "../io/chunk_reader.ts";
import { HttpError, RequestLineError } from "../http/http_error.ts";
import { checkHost, type HostCheckOptions } from "../http/host_check.ts";
import { readRequestHead, type RequestHeadWithRest } from "../http/http_request_head.ts";
import {
  encodeHttpErrorResponse,
  encodeHttpResponse,
  type EncodeHttpResponseOptions,
} from "../http/http_response.ts";
import { writeAll } from "../io/write_all.ts";
import { isWebSocketUpgrade } from "./websocket_handshake.ts";
import type { WebSocketConnection } from "./websocket_connection.ts";
import { upgradeWebSocket, type UpgradeWebSocketOptions } from "./websocket_upgrade.ts";

/** A response served for `GET` on one path: its headers and body. */
export type HttpPage = EncodeHttpResponseOptions;

/** The `Host` check of {@linkcode AcceptHttpUpgradeOptions.hostCheck}: whose names are allowed. */
export interface AcceptHostCheck extends HostCheckOptions {
  /** The address the server listens on, such as `server.addr`. */
  bound: { hostname: string };
}

/** Default {@linkcode AcceptHttpUpgradeOptions.tlsAdvice}. */
export const DEFAULT_TLS_ADVICE = "this port speaks plain HTTP";

/** Options for {@linkcode acceptHttpUpgrade}: routing, the head deadline and the upgrade's own. */
export interface AcceptHttpUpgradeOptions {
  /**
   * Paths answered with a page on `GET` (other methods get 405).
   *
   * @default {{}}
   */
  pages?: Readonly<Record<string, HttpPage>>;
  /**
   * Paths that accept a WebSocket upgrade; a plain request to one gets 426.
   *
   * @default {[]}
   */
  endpoints?: readonly string[];
  /**
   * Where an upgrade at `/` goes, for tools that cannot choose a path (a plain `GET /` still gets
   * the page at `/`, if any).
   *
   * @default {undefined} (an upgrade at `/` is refused with 404 unless `/` is an endpoint)
   */
  rootEndpoint?: string;
  /**
   * Milliseconds the client has to send its whole request head; then it gets 408.
   *
   * @default {10000}
   */
  headTimeout?: number;
  /**
   * Aborted on server shutdown: stops waiting for the head.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called with the endpoint path just before the upgrade; throw an `HttpError` (such as 503
   * when the server is full) to refuse it.
   *
   * @default {undefined}
   */
  beforeUpgrade?: (path: string, request: RequestHeadWithRest) => void;
  /**
   * Check that every request (pages and upgrades alike) names this server in its `Host`
   * header, against DNS rebinding (see `checkHost` in lib/http/host_check.ts): a request for
   * another name gets 403 with a reason naming `flag`, one without a valid Host 400.
   *
   * @default {undefined} (no Host check)
   */
  hostCheck?: AcceptHostCheck;
  /**
   * Appended to the 400 sent when the request starts like a TLS ClientHello (a client that
   * speaks `https://` or `wss://` to this plain port), such as
   * `"this port speaks plain HTTP; for TLS start the server with --tls-cert"`.
   *
   * @default {"this port speaks plain HTTP"}
   */
  tlsAdvice?: string;
  /**
   * How the client is named in the log line of a refusal.
   *
   * @default {"client"}
   */
  label?: string;
  /**
   * The handshake's and the WebSocket's options: subprotocols, Origin policy, limits, timers.
   *
   * @default {{}}
   */
  upgrade?: UpgradeWebSocketOptions;
  /**
   * Where refusals are logged (`info`: a refusal is the client's mistake, not the server's).
   *
   * @default {console}
   */
  logger?: { info(message: string): void };
}

/** A connection that was upgraded: the endpoint it asked for and its WebSocket. */
export interface AcceptedHttpUpgrade {
  /** The endpoint path (after `rootEndpoint` was applied). */
  path: string;
  /** The open WebSocket connection. */
  ws: WebSocketConnection;
}

function listPaths(paths: readonly string[]): string {
  if (paths.length <= 1) return paths[0] ?? "nothing";
  return `${paths.slice(0, -1).join(", ")} or ${paths.at(-1)}`;
}

/**
 * Reads one HTTP request head from `conn` and answers it: a page for `GET` on a path in
 * `pages`, a WebSocket for an upgrade on a path in `endpoints`, or a plain-text refusal that says
 * what to do instead (400 malformed target or a byte that cannot start a request line, at
 * once, with `tlsAdvice` when it is a TLS ClientHello; 403 a `Host` that `hostCheck` refuses;
 * 404 unknown path, 405 wrong method, 408 head too slow, 426 plain request to an endpoint, 403
 * origin refused, and whatever `beforeUpgrade` throws).
 *
 * Each connection carries one request (pages are sent with `Connection: close` by the caller's
 * headers); close `conn` when this resolves `null`.
 *
 * @param conn The accepted TCP or TLS connection.
 * @param options Routes, the head deadline, upgrade limits and logging.
 * @returns The endpoint and its WebSocket, or `null` when the request was answered over HTTP (a
 * page or a refusal, already written and logged) or the client closed before sending a head.
 * @throws {Error} Only for errors other than `HttpError`, such as a reset connection.
 *
 * @example An echo endpoint and a page
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { serveTcp } from "../tcp/serve_tcp.ts";
 * import { acceptHttpUpgrade } from "./accept_http_upgrade.ts";
 *
 * const server = serveTcp(async (conn, ctx) => {
 *   const accepted = await acceptHttpUpgrade(conn, {
 *     pages: { "/": { headers: { "Content-Type": "text/plain" }, body: "hello\n" } },
 *     endpoints: ["/echo"],
 *     signal: ctx.signal,
 *   });
 *   if (accepted === null) return; // answered over HTTP
 *   for (let m; (m = await accepted.ws.receive()) !== null;) accepted.ws.send(m.data);
 * }, { port: 0 });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/nope`);
 * assert.equal(response.status, 404);
 * assert.equal(await response.text(), "Nothing at /nope: try / or /echo\n");
 * await server.shutdown();
 * ```
 */
export async function acceptHttpUpgrade(
  conn: Deno.Conn,
  options: AcceptHttpUpgradeOptions = {},
): Promise<AcceptedHttpUpgrade | null> {
  const pages = options.pages ?? {};
  const endpoints = options.endpoints ?? [];
  const log = options.logger ?? console;
  const reader = new ChunkReader(conn);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.headTimeout ?? 10_000);
  try {
    const request = await readRequestHead(reader, {
      signal: options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal,
    });
    if (request === null) return null;
    const { head } = request;
    if (options.hostCheck !== undefined) {
      checkHost(head.headers.get("host"), options.hostCheck.bound, options.hostCheck);
    }
    if (!URL.canParse(head.target, "http://host")) {
      throw new HttpError(400, `Malformed request target: ${head.target.slice(0, 80)}`);
    }
    let path = new URL(head.target, "http://host").pathname;
    if (!isWebSocketUpgrade(head)) {
      const page = Object.hasOwn(pages, path) ? pages[path] : undefined;
      if (page !== undefined) {
        if (head.method !== "GET") {
          throw new HttpError(405, `Cannot ${head.method} ${path}: only GET is served`, {
            Allow: "GET",
          });
        }
        await writeAll(conn, encodeHttpResponse(200, page));
        return null;
      }
      if (endpoints.includes(path)) {
        throw new HttpError(426, `${path} is a WebSocket endpoint: connect with ws://`, {
          Upgrade: "websocket",
        });
      }
      throw new HttpError(
        404,
        `Nothing at ${path}: try ${listPaths([...Object.keys(pages), ...endpoints])}`,
      );
    }
    if (path === "/" && options.rootEndpoint !== undefined) path = options.rootEndpoint;
    if (!endpoints.includes(path)) {
      throw new HttpError(404, `No WebSocket endpoint at ${path}: try ${listPaths(endpoints)}`);
    }
    options.beforeUpgrade?.(path, request);
    const ws = await upgradeWebSocket(conn, reader, request, options.upgrade);
    return { path, ws };
  } catch (caught) {
    if (!(caught instanceof HttpError)) throw caught;
    let error = caught;
    if (error instanceof RequestLineError && error.likelyTls) {
      error = new HttpError(400, `${error.message}: ${options.tlsAdvice ?? DEFAULT_TLS_ADVICE}`);
    }
    log.info(`${options.label ?? "client"}: refused with ${error.status}: ${error.message}`);
    await writeAll(conn, encodeHttpErrorResponse(error)).catch(() => {});
    return null;
  } finally {
    clearTimeout(timer);
  }
}
