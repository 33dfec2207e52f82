// The supervisor dashboard: live team figures from figures.updated events on the
// console socket (published by `manage.py analytics_figures`). No build step.
const table = document.querySelector("[data-team-figures]");
const badge = document.querySelector("[data-live-status]");
let retry = 0;
let lastEventId = 0;

function apply(data) {
  const row = table.querySelector(`tr[data-team="${Number(data.team)}"]`);
  if (!row) return;
  for (const cell of row.querySelectorAll("[data-figure]")) {
    const value = data.figures[cell.dataset.figure];
    if (value !== undefined) cell.textContent = String(value);
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/console/`);
  socket.addEventListener("open", () => {
    retry = 0;
    if (lastEventId) socket.send(JSON.stringify({ action: "resume", since: lastEventId }));
    badge?.classList.add("is-live");
  });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (typeof frame.id === "number") lastEventId = Math.max(lastEventId, frame.id);
    if (frame.type === "figures.updated") apply(frame.data);
  });
  socket.addEventListener("close", () => {
    badge?.classList.remove("is-live");
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 400 * 2 ** retry);
  });
}
if (table) connect();
