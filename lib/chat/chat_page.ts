/**
 * The web page of the chat server (`GET /` on its `--http-port`): one self-contained HTML file
 * with its CSS and JavaScript inline, kept here as a string so the server needs no
 * `--allow-read`. No CDN, no build step, no framework.
 *
 * The page speaks the chat's own line protocol over a WebSocket (`/chat`): each message it sends
 * is one line as a terminal user would type it (a nick, a `/command`, or a message), and each
 * message it receives is one line as `nc` would print it. It reads the room, the people in it
 * and its own nick from those lines, renders everything with `textContent` (never `innerHTML`
 * with data, so a message or nick containing HTML shows as text), shows the connection state and
 * reconnects with backoff when the server goes away.
 *
 * The response carries a Content-Security-Policy that allows only this page's own inline script
 * and style (by hash) and WebSocket connections to the same host: a second line of defence
 * should escaping ever be missed.
 *
 * Run on its own it prints the page: `deno run lib/chat/chat_page.ts > chat.html`.
 *
 * @module
 */

/** The path of the chat's WebSocket endpoint, as the page connects to it. */
export const CHAT_WEBSOCKET_PATH = "/chat";

const STYLE = `
:root { color-scheme: light dark; --bg: #fafafa; --fg: #1d1d1f; --muted: #6e6e73; --line: #d9d9de;
  --panel: #fff; --accent: #0b63ce; --error: #c62828; --ok: #2e7d32; --warn: #b26a00; }
@media (prefers-color-scheme: dark) { :root { --bg: #151517; --fg: #ececf0; --muted: #9a9aa2;
  --line: #34343a; --panel: #1e1e22; --accent: #6aa8ff; --error: #ff6b6b; --ok: #6fcf74;
  --warn: #f0b34a; } }
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg);
  color: var(--fg); display: flex; flex-direction: column; }
header { display: flex; align-items: center; gap: .6rem; padding: .5rem .75rem;
  border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 1.05rem; margin: 0; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; flex: 1; }
#me { color: var(--muted); font-size: .85rem; white-space: nowrap; }
#state { font-size: .8rem; padding: .1rem .5rem; border-radius: 1rem; border: 1px solid currentColor;
  white-space: nowrap; }
#state[data-state="online"] { color: var(--ok); }
#state[data-state="connecting"] { color: var(--warn); }
#state[data-state="offline"] { color: var(--error); }
main { flex: 1; display: flex; min-height: 0; }
#log { flex: 1; overflow-y: auto; padding: .5rem .75rem; margin: 0; list-style: none;
  overflow-wrap: anywhere; }
#log li { padding: .1rem 0; white-space: pre-wrap; }
#log time { color: var(--muted); font-size: .8rem; font-variant-numeric: tabular-nums; }
#log .nick { font-weight: 600; }
#log .notice { color: var(--muted); font-size: .9rem; }
#log .error { color: var(--error); font-size: .9rem; }
#log .action { font-style: italic; }
#log .private { background: color-mix(in srgb, var(--accent) 10%, transparent); border-radius: .3rem;
  padding-left: .3rem; }
#log .mine .nick { text-decoration: underline; text-decoration-color: var(--line); }
.c0 { color: #c2185b; } .c1 { color: #1565c0; } .c2 { color: #2e7d32; } .c3 { color: #6a1b9a; }
.c4 { color: #ef6c00; } .c5 { color: #00838f; } .c6 { color: #5d4037; } .c7 { color: #546e7a; }
@media (prefers-color-scheme: dark) { .c0 { color: #f48fb1; } .c1 { color: #90caf9; }
  .c2 { color: #a5d6a7; } .c3 { color: #ce93d8; } .c4 { color: #ffcc80; } .c5 { color: #80deea; }
  .c6 { color: #bcaaa4; } .c7 { color: #b0bec5; } }
aside { width: 11rem; border-left: 1px solid var(--line); padding: .5rem .75rem; overflow-y: auto;
  background: var(--panel); }
aside h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  margin: 0 0 .4rem; }
#who { list-style: none; margin: 0; padding: 0; }
#who li { padding: .1rem 0; overflow: hidden; text-overflow: ellipsis; }
form { display: flex; gap: .5rem; padding: .5rem .75rem; border-top: 1px solid var(--line);
  background: var(--panel); }
#input { flex: 1; min-width: 0; font: inherit; font-size: 16px; padding: .5rem .6rem;
  border: 1px solid var(--line); border-radius: .4rem; background: var(--bg); color: var(--fg); }
button { font: inherit; padding: .5rem .9rem; border: 0; border-radius: .4rem; background: var(--accent);
  color: #fff; }
button:disabled { opacity: .5; }
@media (max-width: 600px) {
  main { flex-direction: column-reverse; }
  aside { width: auto; border-left: 0; border-bottom: 1px solid var(--line); padding: .3rem .75rem; }
  aside h2 { display: inline; margin-right: .4rem; }
  #who { display: inline; }
  #who li { display: inline; }
  #who li + li::before { content: ", "; color: var(--muted); }
}
`;

// Plain JavaScript for the browser. Every piece of text from the server goes into the DOM through
// textContent or a text node, never through innerHTML.
const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const log = $("log"), form = $("form"), input = $("input"), send = $("send");
const state = $("state"), roomName = $("room"), me = $("me"), who = $("who"), count = $("count");
const MAX_LINES = 500;              // older lines are dropped: the page's memory stays bounded
const RETRY_MIN_MS = 500, RETRY_MAX_MS = 10000;
let ws = null, nick = "", registered = false, room = "", quitting = false, retries = 0;
let retryTimer = null, hideWho = false;
const members = new Set();

function setState(name, text) {
  state.dataset.state = name;
  state.textContent = text;
  send.disabled = name !== "online";
}

function colorOf(name) {
  let hash = 0;
  for (const ch of name.toLowerCase()) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return "c" + (hash % 8);
}

function clock() {
  const now = new Date();
  return String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
}

function addLine(kind, time, from, text, mine) {
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  const li = document.createElement("li");
  li.className = kind + (mine ? " mine" : "");
  if (time) {
    const t = document.createElement("time");
    t.textContent = time;
    li.append(t, " ");
  }
  if (from) {
    const n = document.createElement("span");
    n.className = "nick " + colorOf(from.replace(/^[-> *]+|\\*$/g, ""));
    n.textContent = from;
    li.append(n, " ");
  }
  li.append(document.createTextNode(text));
  log.append(li);
  while (log.children.length > MAX_LINES) log.firstElementChild.remove();
  if (stick) log.scrollTop = log.scrollHeight;
}

function renderRoom() {
  roomName.textContent = room ? "#" + room : "chat";
  document.title = (room ? "#" + room + " \\u2014 " : "") + "chat";
  me.textContent = registered ? "as " + nick : "";
  who.replaceChildren(...[...members].sort((a, b) => a.localeCompare(b)).map((name) => {
    const li = document.createElement("li");
    li.className = colorOf(name);
    li.textContent = name;
    return li;
  }));
  count.textContent = room ? String(members.size) : "";
  input.placeholder = registered ? "Message #" + (room || "") + ", or /help" : "Pick a nick";
}

// The server's lines, as nc shows them: "[hh:mm] <nick> text" for messages, "[hh:mm] *** ..."
// for room events, "*** ..." for replies to this client only. A user cannot forge a room event:
// their messages always start with "<nick>", "* nick" or "*nick*" after the time.
function onLine(line) {
  const stamped = /^\\[(\\d\\d:\\d\\d)\\] (.*)$/.exec(line);
  if (stamped) {
    const [, time, body] = stamped;
    let m;
    if (!body.startsWith("*** ")) {
      if ((m = /^<([^>]+)> (.*)$/.exec(body))) return addLine("msg", time, m[1], m[2]);
      if ((m = /^\\* ([^\\s*]+) (.*)$/.exec(body))) {
        return addLine("msg action", time, "* " + m[1], m[2]);
      }
      if ((m = /^\\*([^\\s*]+)\\* (.*)$/.exec(body))) {
        return addLine("msg private", time, "*" + m[1] + "*", m[2]);
      }
      if ((m = /^-> \\*([^\\s*]+)\\* (.*)$/.exec(body))) {
        return addLine("msg private", time, "-> *" + m[1] + "*", m[2], true);
      }
      return addLine("msg", time, "", body);
    }
    if ((m = /^\\*\\*\\* (\\S+) joined #(\\S+) \\(\\d+ here\\)$/.exec(body))) {
      if (m[1] === nick) {
        room = m[2];
        members.clear();
        members.add(nick);
        hideWho = true;
        ws?.send("/who"); // who else is here; the reply updates the list
      } else if (m[2] === room) members.add(m[1]);
      renderRoom();
    } else if ((m = /^\\*\\*\\* (\\S+) left #(\\S+) /.exec(body))) {
      if (m[2] === room) members.delete(m[1]);
      renderRoom();
    } else if ((m = /^\\*\\*\\* (\\S+) is now known as (\\S+)$/.exec(body))) {
      members.delete(m[1]);
      members.add(m[2]);
      if (m[1] === nick) nick = m[2];
      renderRoom();
    }
    return addLine("notice", time, "", body);
  }
  let m;
  if ((m = /^\\*\\*\\* You are (\\S+)\\. /.exec(line))) {
    nick = m[1];
    registered = true;
    renderRoom();
  } else if ((m = /^\\*\\*\\* \\d+ in #(\\S+): (.*)$/.exec(line))) {
    if (m[1] === room) {
      members.clear();
      for (const name of m[2].replace(/ and \\d+ more$/, "").split(", ")) if (name) members.add(name);
      renderRoom();
    }
    if (hideWho) {
      hideWho = false;
      return;
    }
  }
  addLine(line.startsWith("*** error") ? "error" : "notice", "", "", line);
}

function connect() {
  clearTimeout(retryTimer);
  quitting = false;
  setState("connecting", "connecting\\u2026");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + ${JSON.stringify(CHAT_WEBSOCKET_PATH)});
  ws = socket;
  socket.onopen = () => {
    retries = 0;
    setState("online", "online");
    if (nick) socket.send(nick); // after a reconnect: the same nick again
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") onLine(event.data);
  };
  socket.onclose = (event) => {
    if (ws !== socket) return;
    ws = null;
    registered = false;
    room = "";
    members.clear();
    renderRoom();
    const why = event.reason ? " (" + event.reason + ")" : event.code === 1006 ? " (no connection)" : "";
    if (quitting) {
      setState("offline", "offline");
      addLine("notice", clock(), "", "*** disconnected" + why + ": send anything to reconnect");
      return;
    }
    // Exponential backoff with jitter, so a restarted server is not hit by every page at once.
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** retries++) * (0.5 + Math.random() / 2);
    setState("offline", "offline, retrying in " + Math.ceil(delay / 1000) + " s");
    addLine("notice", clock(), "", "*** disconnected" + why + "; reconnecting");
    retryTimer = setTimeout(connect, delay);
  };
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  if (text.trim() === "") return;
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    if (quitting) connect();
    return;
  }
  input.value = "";
  for (const line of text.split(/\\r?\\n/)) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    ws.send(line);
    if (/^\\/quit\\b/i.test(trimmed)) quitting = true;
    if (!registered || !room) continue;
    // The server relays a message to everyone else in the room; our own copy is shown here.
    if (trimmed.startsWith("//")) addLine("msg", clock(), nick, trimmed.slice(1), true);
    else if (!trimmed.startsWith("/")) addLine("msg", clock(), nick, trimmed, true);
    else if (/^\\/me\\s+\\S/i.test(trimmed)) {
      addLine("msg action", clock(), "* " + nick, trimmed.replace(/^\\/me\\s+/i, ""), true);
    }
  }
});

renderRoom();
connect();
input.focus();
`;

const BODY = `<header>
<h1 id="room">chat</h1><span id="me"></span><span id="state" data-state="connecting">connecting</span>
</header>
<main>
<ol id="log" aria-live="polite"></ol>
<aside><h2>Here <span id="count"></span></h2><ul id="who"></ul></aside>
</main>
<form id="form" autocomplete="off">
<input id="input" enterkeyhint="send" autocapitalize="off" spellcheck="false" aria-label="Message">
<button id="send" disabled>Send</button>
</form>`;

/** The page's HTML: a complete document with its style and script inline. */
export const CHAT_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chat</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * The response headers for {@linkcode CHAT_PAGE_HTML}. The Content-Security-Policy allows the
 * page's own inline script and style by hash and nothing else (no other scripts, no inline
 * event handlers such as `onerror=`, no frames, no forms posting elsewhere); `connect-src
 * 'self'` covers the WebSocket to the same host and port.
 */
export const CHAT_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": [
    "default-src 'none'",
    `script-src 'sha256-${await sha256Base64(SCRIPT)}'`,
    `style-src 'sha256-${await sha256Base64(STYLE)}'`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  // One request per connection: the server speaks just enough HTTP to serve this page and upgrade.
  Connection: "close",
};

// Run on its own, this module prints the page, to look at or serve elsewhere:
// `deno run lib/chat/chat_page.ts > chat.html` (it then talks to ws://<that host>/chat).
if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(
      "Usage: deno run lib/chat/chat_page.ts > chat.html\n" +
        "Prints the chat server's web page (served by chat_server.ts at GET / on --http-port).",
    );
  } else {
    console.log(CHAT_PAGE_HTML);
  }
}
