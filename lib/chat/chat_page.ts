/**
 * The web page of the chat server (`GET /` on its `--http-port`): `chat_page.html`,
 * `chat_page.css` and `chat_page.js` beside this module, imported as text so the server needs no
 * `--allow-read` (and `deno bundle` carries them along). No CDN, no build step, no framework.
 *
 * The page speaks the chat's own line protocol over a WebSocket (`/chat`): each message it sends
 * is one line as a terminal user would type it (a nick, a `/command`, or a message), and each
 * message it receives is one line as `nc` would print it. It reads the room, the people in it
 * and its own nick from those lines, renders everything with `textContent` (never `innerHTML`
 * with data, so a message or nick containing HTML shows as text), shows the connection state and
 * reconnects with backoff when the server goes away.
 *
 * Every response carries a Content-Security-Policy that allows scripts and styles only from the
 * same origin (the two files here; no inline script or style, no inline event handlers such as
 * `onerror=`) and WebSocket connections to the same host: a second line of defence should
 * escaping ever be missed.
 *
 * @module
 */

import PAGE_HTML from "./chat_page.html" with { type: "text" };
import PAGE_CSS from "./chat_page.css" with { type: "text" };
import PAGE_JS from "./chat_page.js" with { type: "text" };
import type { HttpPage } from "../websocket/accept_http_upgrade.ts";
import { SAME_ORIGIN_PAGE_HEADERS, sameOriginPages } from "../websocket/same_origin_pages.ts";

/** The path of the chat's WebSocket endpoint, as the page connects to it. */
export const CHAT_WEBSOCKET_PATH = "/chat";

/** The page's HTML: a complete document that loads `chat_page.css` and `chat_page.js`. */
export const CHAT_PAGE_HTML: string = PAGE_HTML;

/** The headers every file of the page is served with, besides its `Content-Type`. */
export const CHAT_PAGE_HEADERS: Readonly<Record<string, string>> = SAME_ORIGIN_PAGE_HEADERS;

/**
 * The page's files by path, ready for `acceptHttpUpgrade`'s `pages` option: `/` (the HTML),
 * `/chat_page.css` and `/chat_page.js`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHAT_PAGE_PAGES } from "./chat_page.ts";
 *
 * assert.deepEqual(Object.keys(CHAT_PAGE_PAGES), ["/", "/chat_page.css", "/chat_page.js"]);
 * assert.match(String(CHAT_PAGE_PAGES["/"]?.body), /<script src="chat_page.js" defer>/);
 * assert.match(CHAT_PAGE_PAGES["/"]?.headers?.["Content-Security-Policy"] ?? "", /script-src 'self'/);
 * ```
 */
export const CHAT_PAGE_PAGES: Readonly<Record<string, HttpPage>> = sameOriginPages("chat_page", {
  html: PAGE_HTML,
  css: PAGE_CSS,
  js: PAGE_JS,
});
