/**
 * The test page of {@linkcode startWsServer} (`GET /`): `ws_server_page.html`,
 * `ws_server_page.css` and `ws_server_page.js` beside this module, imported as text so the
 * server needs no `--allow-read` (and `deno bundle` carries them along).
 *
 * Every file is served with a Content-Security-Policy that allows scripts and styles only from
 * the same origin (no inline script, style or event handler) and WebSocket connections to the
 * same host, as the chat page does (`lib/chat/chat_page.ts`).
 *
 * @module
 */

import PAGE_HTML from "./ws_server_page.html" with { type: "text" };
import PAGE_CSS from "./ws_server_page.css" with { type: "text" };
import PAGE_JS from "./ws_server_page.js" with { type: "text" };
import type { HttpPage } from "./accept_http_upgrade.ts";

/**
 * The headers every file of the page is served with, besides its `Content-Type`.
 * `connect-src 'self'` covers the WebSocket to the same host and port (ws: and wss:).
 */
export const WS_SERVER_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  // One request per connection: the server speaks just enough HTTP to serve the page and upgrade.
  Connection: "close",
};

function page(contentType: string, body: string): HttpPage {
  return { headers: { "Content-Type": contentType, ...WS_SERVER_PAGE_HEADERS }, body };
}

/**
 * The page's files by path, ready for `acceptHttpUpgrade`'s `pages` option: `/` (the HTML),
 * `/ws_server_page.css` and `/ws_server_page.js`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WS_SERVER_PAGES } from "./ws_server_page.ts";
 *
 * assert.deepEqual(Object.keys(WS_SERVER_PAGES), ["/", "/ws_server_page.css", "/ws_server_page.js"]);
 * assert.match(String(WS_SERVER_PAGES["/"]?.body), /<script src="ws_server_page.js" defer>/);
 * assert.match(WS_SERVER_PAGES["/"]?.headers?.["Content-Security-Policy"] ?? "", /script-src 'self'/);
 * ```
 */
export const WS_SERVER_PAGES: Readonly<Record<string, HttpPage>> = {
  "/": page("text/html; charset=utf-8", PAGE_HTML),
  "/ws_server_page.css": page("text/css; charset=utf-8", PAGE_CSS),
  "/ws_server_page.js": page("text/javascript; charset=utf-8", PAGE_JS),
};
