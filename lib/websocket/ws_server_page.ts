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
import { SAME_ORIGIN_PAGE_HEADERS, sameOriginPages } from "./same_origin_pages.ts";

/** The headers every file of the page is served with, besides its `Content-Type`. */
export const WS_SERVER_PAGE_HEADERS: Readonly<Record<string, string>> = SAME_ORIGIN_PAGE_HEADERS;

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
export const WS_SERVER_PAGES: Readonly<Record<string, HttpPage>> = sameOriginPages(
  "ws_server_page",
  { html: PAGE_HTML, css: PAGE_CSS, js: PAGE_JS },
);
