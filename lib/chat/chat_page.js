"use strict";
const $ = (id) => document.getElementById(id);
const log = $("log"), form = $("form"), input = $("input"), send = $("send");
const state = $("state"), roomName = $("room"), me = $("me"), who = $("who"), count = $("count");
const MAX_LINES = 500; // older lines are dropped: the page's memory stays bounded
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
    n.className = "nick " + colorOf(from.replace(/^[-> *]+|\*$/g, ""));
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
  document.title = (room ? "#" + room + " \u2014 " : "") + "chat";
  me.textContent = registered ? "as " + nick : "";
  who.replaceChildren(
    ...[...members].sort((a, b) => a.localeCompare(b)).map((name) => {
      const li = document.createElement("li");
      li.className = colorOf(name);
      li.textContent = name;
      return li;
    }),
  );
  count.textContent = room ? String(members.size) : "";
  input.placeholder = registered ? "Message #" + (room || "") + ", or /help" : "Pick a nick";
}

// The server's lines, as nc shows them: "[hh:mm] <nick> text" for messages, "[hh:mm] *** ..."
// for room events, "*** ..." for replies to this client only. A user cannot forge a room event:
// their messages always start with "<nick>", "* nick" or "*nick*" after the time.
function onLine(line) {
  const stamped = /^\[(\d\d:\d\d)\] (.*)$/.exec(line);
  if (stamped) {
    const [, time, body] = stamped;
    let m;
    if (!body.startsWith("*** ")) {
      if ((m = /^<([^>]+)> (.*)$/.exec(body))) return addLine("msg", time, m[1], m[2]);
      if ((m = /^\* ([^\s*]+) (.*)$/.exec(body))) {
        return addLine("msg action", time, "* " + m[1], m[2]);
      }
      if ((m = /^\*([^\s*]+)\* (.*)$/.exec(body))) {
        return addLine("msg private", time, "*" + m[1] + "*", m[2]);
      }
      if ((m = /^-> \*([^\s*]+)\* (.*)$/.exec(body))) {
        return addLine("msg private", time, "-> *" + m[1] + "*", m[2], true);
      }
      return addLine("msg", time, "", body);
    }
    if ((m = /^\*\*\* (\S+) joined #(\S+) \(\d+ here\)$/.exec(body))) {
      if (m[1] === nick) {
        room = m[2];
        members.clear();
        members.add(nick);
        hideWho = true;
        ws?.send("/who"); // who else is here; the reply updates the list
      } else if (m[2] === room) members.add(m[1]);
      renderRoom();
    } else if ((m = /^\*\*\* (\S+) left #(\S+) /.exec(body))) {
      if (m[2] === room) members.delete(m[1]);
      renderRoom();
    } else if ((m = /^\*\*\* (\S+) is now known as (\S+)$/.exec(body))) {
      members.delete(m[1]);
      members.add(m[2]);
      if (m[1] === nick) nick = m[2];
      renderRoom();
    }
    return addLine("notice", time, "", body);
  }
  let m;
  if ((m = /^\*\*\* You are (\S+)\. /.exec(line))) {
    nick = m[1];
    registered = true;
    renderRoom();
  } else if ((m = /^\*\*\* \d+ in #(\S+): (.*)$/.exec(line))) {
    if (m[1] === room) {
      members.clear();
      for (const name of m[2].replace(/ and \d+ more$/, "").split(", ")) {
        if (name) members.add(name);
      }
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
  setState("connecting", "connecting\u2026");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/chat");
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
    const why = event.reason
      ? " (" + event.reason + ")"
      : event.code === 1006
      ? " (no connection)"
      : "";
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
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    ws.send(line);
    if (/^\/quit\b/i.test(trimmed)) quitting = true;
    if (!registered || !room) continue;
    // The server relays a message to everyone else in the room; our own copy is shown here.
    if (trimmed.startsWith("//")) addLine("msg", clock(), nick, trimmed.slice(1), true);
    else if (!trimmed.startsWith("/")) addLine("msg", clock(), nick, trimmed, true);
    else if (/^\/me\s+\S/i.test(trimmed)) {
      addLine("msg action", clock(), "* " + nick, trimmed.replace(/^\/me\s+/i, ""), true);
    }
  }
});

renderRoom();
connect();
input.focus();
