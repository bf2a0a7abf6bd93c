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

/** The path of the chat's WebSocket endpoint, as the page connects to it. */
export const CHAT_WEBSOCKET_PATH = "/chat";

/** The page's HTML: a complete document that loads `chat_page.css` and `chat_page.js`. */
export const CHAT_PAGE_HTML: string = PAGE_HTML;

/**
 * The headers every file of the page is served with, besides its `Content-Type`.
 * `script-src 'self'` and `style-src 'self'` allow the page's two files and nothing inline;
 * `connect-src 'self'` covers the WebSocket to the same host and port.
 */
export const CHAT_PAGE_HEADERS: Readonly<Record<string, string>> = {
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
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  // One request per connection: the server speaks just enough HTTP to serve the page and upgrade.
  Connection: "close",
};

function page(contentType: string, body: string): HttpPage {
  return { headers: { "Content-Type": contentType, ...CHAT_PAGE_HEADERS }, body };
}

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
export const CHAT_PAGE_PAGES: Readonly<Record<string, HttpPage>> = {
  "/": page("text/html; charset=utf-8", PAGE_HTML),
  "/chat_page.css": page("text/css; charset=utf-8", PAGE_CSS),
  "/chat_page.js": page("text/javascript; charset=utf-8", PAGE_JS),
};
