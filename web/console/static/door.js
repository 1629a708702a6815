// Live door statistics on an event's console page: the counters the page was rendered with, then every
// checkin.stats push over the host's socket; admitted per gate, and admitted per minute while the page is open.
import { io } from "/scan/vendor/socket.io.esm.min.js";

const MINUTES_SHOWN = 15;
const RETRY_REFUSED_MS = 15000;
const door = document.getElementById("door");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const eventId = door.dataset.eventId;
let latest = JSON.parse(door.dataset.stats);
const perMinute = new Map();

// The access token lives on the server with the session; the page asks for it at each (re)connect.
async function accessToken() {
  const answer = await fetch("/console/socket-token", { method: "POST", headers: { "X-CSRF-Token": csrf } });
  if (!answer.ok) throw new Error("signed out");
  return (await answer.json()).access_token;
}

function minuteNow() {
  return Math.floor(Date.now() / 60000);
}

function drawGates(byGate) {
  const list = document.getElementById("gates");
  const most = Math.max(1, ...Object.values(byGate));
  list.replaceChildren(...Object.entries(byGate).sort().map(([gate, admitted]) => {
    const row = document.createElement("li");
    const name = document.createElement("span");
    const bar = document.createElement("span");
    const count = document.createElement("span");
    name.textContent = gate;
    bar.className = "bar";
    bar.style.width = `${(100 * admitted) / most}%`;
    count.textContent = admitted;
    count.dataset.gate = gate;
    row.append(name, bar, count);
    return row;
  }));
  document.getElementById("gates-empty").hidden = Object.keys(byGate).length > 0;
}

function drawMinutes() {
  const chart = document.getElementById("minutes");
  const now = minuteNow();
  const counts = Array.from({ length: MINUTES_SHOWN }, (_, i) => perMinute.get(now - MINUTES_SHOWN + 1 + i) || 0);
  const most = Math.max(1, ...counts);
  chart.replaceChildren(...counts.map((admitted) => {
    const bar = document.createElement("span");
    bar.style.height = `${(100 * admitted) / most}%`;
    return bar;
  }));
  chart.setAttribute("aria-label", chart.dataset.label.replace("{counts}", counts.join(", ")));
  document.getElementById("this-minute").textContent = counts[counts.length - 1];
}

function show(stats) {
  document.getElementById("admitted").textContent = stats.admitted;
  document.getElementById("inside").textContent = stats.inside;
  for (const cell of document.querySelectorAll("[data-ticket-type]")) {
    cell.textContent = stats.by_ticket_type[cell.dataset.ticketType] || 0;
  }
  drawGates(stats.by_gate);
  drawMinutes();
}

function adopt(stats) {
  // Pushes from different gateway nodes can cross: only a higher version is newer.
  if (stats.event_id !== eventId || stats.version <= latest.version) return;
  const admittedNow = Math.max(0, stats.admitted - latest.admitted);
  perMinute.set(minuteNow(), (perMinute.get(minuteNow()) || 0) + admittedNow);
  latest = stats;
  show(stats);
}

const status = document.getElementById("live");
const socket = io({
  transports: ["websocket"],
  auth: (send) => accessToken().then((token) => send({ token }), () => send({})),
});
socket.on("connect", () => { status.textContent = status.dataset.live; status.dataset.state = "live"; });
socket.on("connect_error", () => { status.textContent = status.dataset.offline; status.dataset.state = "offline"; });
// A socket refused just after its CONNECT (too many of the account's sockets, Redis briefly away) tries again later.
let retryAt = 0;
socket.on("connect.refused", () => { retryAt = Date.now() + RETRY_REFUSED_MS; });
socket.on("disconnect", (reason) => {
  status.textContent = status.dataset.offline;
  status.dataset.state = "offline";
  // The server ends a socket whose token ran out: connect again, with a fresh one.
  if (reason === "io server disconnect") setTimeout(() => socket.connect(), Math.max(0, retryAt - Date.now()));
});
socket.on("checkin.stats", (pushed) => adopt(pushed.data));
setInterval(drawMinutes, 15000);
show(latest);
