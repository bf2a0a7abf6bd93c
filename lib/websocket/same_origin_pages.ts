/**
 * Serving a small web page (HTML, CSS and JS files) from the HTTP front door
 * under a strict Content-Security-Policy: scripts and styles only from the
 * same origin (no inline script, style or event handler), and WebSocket
 * connections only to the same host and port.
 *
 * @module
 */

import type { HttpPage } from "./accept_http_upgrade.ts";

/**
 * The headers every file of such a page is served with, besides its `Content-Type`.
 * `script-src 'self'` and `style-src 'self'` allow the page's own files and nothing inline;
 * `connect-src 'self'` covers the WebSocket to the same host and port (ws: and wss:).
 */
export const SAME_ORIGIN_PAGE_HEADERS: Readonly<Record<string, string>> = {
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

/** The three files of a page, as text. */
export interface PageFiles {
  /** The document; it loads `NAME.css` and `NAME.js`. */
  html: string;
  /** The stylesheet. */
  css: string;
  /** The script. */
  js: string;
}

/**
 * The page's files by path, ready for `acceptHttpUpgrade`'s `pages` option: `/` (the HTML),
 * `/NAME.css` and `/NAME.js`, each with {@linkcode SAME_ORIGIN_PAGE_HEADERS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sameOriginPages } from "./same_origin_pages.ts";
 *
 * const pages = sameOriginPages("demo", { html: "<p>hi</p>", css: "p {}", js: "1" });
 * assert.deepEqual(Object.keys(pages), ["/", "/demo.css", "/demo.js"]);
 * assert.match(pages["/"]?.headers?.["Content-Security-Policy"] ?? "", /script-src 'self'/);
 * assert.equal(pages["/demo.css"]?.headers?.["Content-Type"], "text/css; charset=utf-8");
 * ```
 *
 * @param name The files' base name, as the HTML refers to them.
 * @param files The three files.
 * @returns The pages by path.
 */
export function sameOriginPages(name: string, files: PageFiles): Record<string, HttpPage> {
  const page = (contentType: string, body: string): HttpPage => ({
    headers: { "Content-Type": contentType, ...SAME_ORIGIN_PAGE_HEADERS },
    body,
  });
  return {
    "/": page("text/html; charset=utf-8", files.html),
    [`/${name}.css`]: page("text/css; charset=utf-8", files.css),
    [`/${name}.js`]: page("text/javascript; charset=utf-8", files.js),
  };
}
