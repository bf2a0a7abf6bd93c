// The test page of ws_server.ts: connect to /echo or /broadcast, send lines, log what comes back.
// Loaded as a same-origin file (no inline script), so the page's Content-Security-Policy can
// refuse every inline script and handler.
const log = (line) => document.getElementById("log").append(line + "\n");
const form = document.getElementById("form");
let ws;
document.getElementById("connect").addEventListener("click", () => {
  ws?.close();
  const path = document.querySelector("input[name=path]:checked").value;
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
  ws.onopen = () => {
    log("open " + path);
    for (const e of form.elements) e.disabled = false;
  };
  ws.onmessage = (event) => log("< " + event.data);
  ws.onclose = (event) => log("closed " + event.code + " " + event.reason);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  ws.send(text.value);
  log("> " + text.value);
  text.value = "";
});
