// The full-screen answer to a scan: its colour, words, sound and vibration.
import { clockTime, t } from "./i18n.js";

const SHOWN_MS = 1600;
const COLOUR = { ok: "green", already_redeemed: "amber", not_inside: "amber" };
// Tones (Hz, ms) and vibration patterns: a bright beep for yes, two for "already used", a low buzz for no.
const SOUND = { green: [[880, 120]], amber: [[620, 110], [0, 60], [620, 110]], red: [[220, 420]] };
const VIBRATION = { green: [80], amber: [90, 60, 90], red: [400] };

let audio = null;
let hideTimer = null;

// Called from a tap (browsers start sound only after one).
export function enableSound() {
  audio ??= new AudioContext();
  if (audio.state === "suspended") audio.resume();
}

function play(colour) {
  if (!audio) return;
  let at = audio.currentTime;
  for (const [frequency, ms] of SOUND[colour]) {
    if (frequency) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      tone.type = colour === "red" ? "square" : "sine";
      gain.gain.value = 0.25;
      tone.connect(gain).connect(audio.destination);
      tone.start(at);
      tone.stop(at + ms / 1000);
    }
    at += ms / 1000;
  }
}

function describe(answer) {
  const colour = COLOUR[answer.result] ?? "red";
  const lines = [];
  if (answer.result === "ok") {
    if (answer.holder_name) lines.push(answer.holder_name);
    if (answer.ticket_type) lines.push(answer.ticket_type);
  } else if (answer.result === "already_redeemed") {
    lines.push(t("result_already_line", { gate: answer.redeemed_gate ?? "?", time: clockTime(answer.redeemed_at) }));
    if (answer.holder_name) lines.push(answer.holder_name);
  } else if (answer.result === "error") {
    lines.push(t("result_error", { reason: answer.reason }));
  }
  if (answer.offline && answer.result !== "ok") lines.push(t("checked_offline"));
  const title = answer.result === "ok" && answer.offline ? t("result_ok_offline") : t(`result_${answer.result}`);
  return { colour, title: answer.result === "error" ? t("result_error_title") : title, lines };
}

// Shows `answer` ({result, holder_name?, ticket_type?, redeemed_gate?, redeemed_at?, offline?}) over everything.
export function showAnswer(overlay, answer) {
  const { colour, title, lines } = describe(answer);
  overlay.className = colour;
  overlay.dataset.result = answer.result;
  overlay.querySelector(".title").textContent = title;
  overlay.querySelector(".lines").replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
  overlay.hidden = false;
  play(colour);
  navigator.vibrate?.(VIBRATION[colour]);
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => { overlay.hidden = true; }, SHOWN_MS);
  return { colour, title, lines };
}

// Lays the answer screen out once, unseen, in each colour: the first real answer then only paints.
export function prepareAnswer(overlay) {
  overlay.style.visibility = "hidden";
  overlay.hidden = false;
  for (const colour of Object.keys(SOUND)) {
    overlay.className = colour;
    void overlay.offsetHeight;
  }
  overlay.hidden = true;
  overlay.style.visibility = "";
}

export function hideAnswer(overlay) {
  clearTimeout(hideTimer);
  overlay.hidden = true;
}
