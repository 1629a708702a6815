// The door scanner: sign in, pick the event and gate, scan; the pieces are wired together here.
import * as api from "./api.js";
import { enableSound, hideAnswer, prepareAnswer, showAnswer } from "./answer.js";
import { startCamera } from "./camera.js";
import { Door } from "./door.js";
import { clockTime, currentLanguage, switchLanguage, t, translatePage } from "./i18n.js";
import { queuedCount } from "./store.js";

const SETUP_KEY = "lango.scan.setup";
const GATE_PATTERN = /^[A-Za-z0-9 _.-]{1,40}$/;
const RECENT_KEPT = 8;
const DOOR_ROLES = ["scanner", "agent", "admin"];

const $ = (id) => document.getElementById(id);
const screens = ["signin", "second-factor", "setup", "scanner"];
let door = null;
let camera = null;
let mfaToken = null;
// How long each answer took, from the camera frame that showed the code to the answer painted (ms).
window.scanTimings = [];

function show(screen) {
  for (const id of screens) $(id).hidden = id !== screen;
}

function say(text) {
  $("message").textContent = text ?? "";
  $("message").hidden = !text;
}

let syncFailure = null;

function showSyncFailure(reason) {
  if (reason) say((syncFailure = t("sync_failed", { reason })));
  else if (syncFailure !== null && $("message").textContent === syncFailure) say("");
}

function setup() {
  return JSON.parse(localStorage.getItem(SETUP_KEY) || "null");
}

async function renderStatus() {
  const network = !navigator.onLine ? "offline" : door?.online ? "online" : door ? "connecting" : "online";
  $("network").dataset.state = network;
  $("network").textContent = t(network);
  const count = await queuedCount();
  $("queued").dataset.count = String(count);
  $("queued").textContent = t("queued", { n: count });
}

function renderStats(stats) {
  $("stats").textContent = stats ? t("admitted_of", { admitted: stats.admitted, capacity: setup()?.capacity ?? "?" }) : "";
  $("stats").dataset.admitted = stats ? String(stats.admitted) : "";
}

function renderKit(kit) {
  $("kit").dataset.ready = String(Boolean(kit));
  $("kit").textContent = kit ? t("kit_ready") : t("kit_missing");
}

function renderConflicts(conflicts) {
  $("conflicts").hidden = conflicts.length === 0;
  $("conflict-list").replaceChildren(...conflicts.map((conflict) => Object.assign(document.createElement("li"), {
    textContent: t("conflict_line", {
      holder: conflict.holder_name ?? conflict.ticket_id, at: clockTime(conflict.scanned_at),
      gate: conflict.redeemed_gate ?? "?", redeemed_at: clockTime(conflict.redeemed_at),
    }),
  })));
}

function remember(answer, shown) {
  const item = document.createElement("li");
  item.dataset.result = answer.result;
  item.dataset.offline = String(Boolean(answer.offline));
  item.className = shown.colour;
  item.textContent = [clockTime(new Date().toISOString(), { seconds: true }), shown.title, ...shown.lines].join(" · ");
  $("recent").prepend(item);
  while ($("recent").children.length > RECENT_KEPT) $("recent").lastChild.remove();
}

async function check(secret, frameAt) {
  const decodedMs = frameAt === undefined ? undefined : performance.now() - frameAt;
  const answer = await door.scan(secret.trim());
  const judgedMs = frameAt === undefined ? undefined : performance.now() - frameAt;
  const shown = showAnswer($("answer"), answer);
  remember(answer, shown);
  renderStatus();
  if (frameAt !== undefined) {
    requestAnimationFrame(() => window.scanTimings.push({ ms: performance.now() - frameAt, decoded_ms: decodedMs, judged_ms: judgedMs, result: answer.result, offline: Boolean(answer.offline) }));
  }
}

async function startScanning() {
  enableSound();
  say("");
  try {
    camera ??= await startCamera($("camera"), (text, frameAt) => check(text, frameAt));
    $("camera-start").hidden = true;
    $("viewfinder").dataset.decoder = camera.decoder;
  } catch (error) {
    console.warn("camera", error);
    say(t("camera_off"));
  }
}

async function openDoor() {
  const chosen = setup();
  door?.close();
  $("scanning-title").textContent = `${chosen.title} · ${t("gate")} ${chosen.gate}`;
  door = new Door({
    eventId: chosen.event_id, gate: chosen.gate, ticketTypes: chosen.ticket_types,
    listeners: {
      status: renderStatus, stats: renderStats, kit: renderKit, conflicts: renderConflicts, signedOut,
      syncFailed: showSyncFailure,
    },
  });
  show("scanner");
  prepareAnswer($("answer"));
  await door.open();
  renderStatus();
}

// The event and gate form, shown once the events are there (so nothing is picked from an empty list).
async function chooseEvent(gate = "") {
  const { items } = await api.eventsToScan();
  $("event").replaceChildren(...items.map((event) => Object.assign(document.createElement("option"), {
    value: event.id, textContent: `${event.title} · ${new Date(event.starts_at).toLocaleDateString(currentLanguage() === "sw" ? "sw-KE" : "en-KE")}`,
  })));
  $("event").dataset.events = JSON.stringify(items.map((event) => ({
    event_id: event.id, title: event.title, capacity: event.capacity,
    ticket_types: Object.fromEntries(event.ticket_types.map((type) => [type.id, type.name])),
  })));
  $("gate").value = gate;
  if (items.length === 0) say(t("no_events"));
  show("setup");
}

function signedOut(code) {
  door?.close();
  door = null;
  camera?.stop();
  camera = null;
  api.forget();
  say(code ? t("signed_out", { reason: code }) : "");
  show("signin");
}

async function afterSignIn() {
  const roles = api.currentSession().account.roles;
  if (!roles.some((role) => DOOR_ROLES.includes(role))) {
    await api.signOut().catch(() => null);
    say(t("not_scanner"));
    show("signin");
    return;
  }
  say("");
  if (setup()) await openDoor();
  else await chooseEvent();
}

$("signin").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  try {
    const answer = await api.signIn($("identifier").value, $("password").value);
    $("password").value = "";
    if (answer.status === "mfa_required") {
      mfaToken = answer.mfa_token;
      show("second-factor");
    } else if (answer.status === "mfa_enrolment_required") {
      say(t("enrol_first"));
    } else {
      await afterSignIn();
    }
  } catch (error) {
    say(t("signin_failed", { reason: error.message }));
  }
});

$("second-factor").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  try {
    await api.secondFactor(mfaToken, $("otp").value.trim(), $("backup-code").value.trim());
    $("otp").value = $("backup-code").value = "";
    await afterSignIn();
  } catch (error) {
    say(t("signin_failed", { reason: error.message }));
  }
});

$("setup").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const gate = $("gate").value.trim();
  const chosen = JSON.parse($("event").dataset.events).find((event) => event.event_id === $("event").value);
  if (!chosen || !GATE_PATTERN.test(gate)) return;
  localStorage.setItem(SETUP_KEY, JSON.stringify({ ...chosen, gate }));
  await openDoor();
  await startScanning();
});

$("camera-start").addEventListener("click", startScanning);
$("manual").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  enableSound();
  await check($("manual-code").value);
  $("manual-code").value = "";
});
$("answer").addEventListener("click", () => hideAnswer($("answer")));
$("change-event").addEventListener("click", async () => {
  door?.close();
  door = null;
  camera?.stop();
  camera = null;
  $("camera-start").hidden = false;
  const gate = setup()?.gate;
  localStorage.removeItem(SETUP_KEY);
  await chooseEvent(gate);
});
$("sign-out").addEventListener("click", async () => {
  await api.signOut().catch(() => null);
  localStorage.removeItem(SETUP_KEY);
  signedOut();
});
$("language").addEventListener("click", () => {
  switchLanguage();
  renderStatus();
  if (door) {
    renderKit(door.kit);
    renderStats(door.stats);
  }
});
window.addEventListener("online", renderStatus);
window.addEventListener("offline", renderStatus);

if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js", { scope: "./" });
translatePage();
renderStatus();
if (api.currentSession()) afterSignIn().catch((error) => say(error.message));
else show("signin");
