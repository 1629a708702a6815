// The scanner's words in English and Swahili; the choice is kept on the device.
const WORDS = {
  en: {
    language: "Kiswahili",
    online: "Online",
    offline: "Offline",
    connecting: "Connecting…",
    queued: "{n} waiting to send",
    admitted_of: "{admitted} in / {capacity}",
    sign_in: "Sign in",
    identifier: "Email or phone",
    password: "Password",
    second_factor: "Code from your authenticator app",
    backup_code: "Or a backup code",
    verify: "Continue",
    enrol_first: "This account must turn on two-factor sign-in first, in the Lango app.",
    not_scanner: "This account is not door staff. Ask the event's host to add you.",
    signin_failed: "Sign-in failed: {reason}",
    signed_out: "You were signed out ({reason}): sign in again.",
    event: "Event",
    gate: "Gate",
    gate_hint: "Letters, digits, spaces, . _ - (up to 40)",
    no_events: "No events to scan. Ask the event's host to add you as door staff.",
    start: "Start scanning",
    change_event: "Change event",
    sign_out: "Sign out",
    manual: "Type a ticket code",
    check: "Check",
    camera_off: "The camera is not available: type the ticket code below.",
    kit_ready: "Ready to check tickets offline",
    kit_missing: "Not yet ready offline: connect once with this event chosen",
    conflicts: "Admitted twice while offline",
    sync_failed: "Scans not sent yet: {reason}",
    conflict_line: "{holder}: admitted here offline at {at}, already in through {gate} at {redeemed_at}",
    recent: "Recent scans",
    result_ok: "Valid: let in",
    result_ok_offline: "Valid: let in (checked offline)",
    checked_offline: "Checked offline, on this phone",
    result_already_redeemed: "Already used",
    result_already_line: "Gate {gate}, {time}",
    result_invalid: "Invalid ticket",
    result_wrong_event: "Wrong event",
    result_revoked: "Ticket cancelled",
    result_unpaid: "Not paid",
    result_not_valid_now: "Not valid at this time",
    result_not_inside: "Not inside",
    result_error_title: "Not checked",
    result_error: "Could not check: {reason}",
    tap_to_continue: "Tap to continue",
  },
  sw: {
    language: "English",
    online: "Mtandaoni",
    offline: "Nje ya mtandao",
    connecting: "Inaunganisha…",
    queued: "{n} zinasubiri kutumwa",
    admitted_of: "{admitted} wameingia / {capacity}",
    sign_in: "Ingia",
    identifier: "Barua pepe au simu",
    password: "Nenosiri",
    second_factor: "Nambari kutoka programu ya uthibitisho",
    backup_code: "Au nambari ya akiba",
    verify: "Endelea",
    enrol_first: "Akaunti hii lazima iwashe uthibitisho wa hatua mbili kwanza, kwenye programu ya Lango.",
    not_scanner: "Akaunti hii si ya wahudumu wa mlangoni. Muombe mwenyeji wa tukio akuongeze.",
    signin_failed: "Imeshindikana kuingia: {reason}",
    signed_out: "Umetolewa ({reason}): ingia tena.",
    event: "Tukio",
    gate: "Lango",
    gate_hint: "Herufi, tarakimu, nafasi, . _ - (hadi 40)",
    no_events: "Hakuna tukio la kukagua. Muombe mwenyeji wa tukio akuongeze kama mhudumu wa mlangoni.",
    start: "Anza kukagua",
    change_event: "Badilisha tukio",
    sign_out: "Toka",
    manual: "Andika nambari ya tiketi",
    check: "Kagua",
    camera_off: "Kamera haipatikani: andika nambari ya tiketi hapa chini.",
    kit_ready: "Tayari kukagua tiketi bila mtandao",
    kit_missing: "Bado haiwezi kukagua bila mtandao: unganisha mara moja ukiwa umechagua tukio hili",
    conflicts: "Walioingizwa mara mbili bila mtandao",
    sync_failed: "Ukaguzi bado haujatumwa: {reason}",
    conflict_line: "{holder}: aliingizwa hapa bila mtandao saa {at}, tayari aliingia kupitia {gate} saa {redeemed_at}",
    recent: "Ukaguzi wa karibuni",
    result_ok: "Halali: karibu ndani",
    result_ok_offline: "Halali: karibu ndani (bila mtandao)",
    checked_offline: "Imekaguliwa bila mtandao, kwenye simu hii",
    result_already_redeemed: "Imeshatumika",
    result_already_line: "Lango {gate}, saa {time}",
    result_invalid: "Tiketi si halali",
    result_wrong_event: "Tiketi ya tukio jingine",
    result_revoked: "Tiketi imefutwa",
    result_unpaid: "Haijalipiwa",
    result_not_valid_now: "Haitumiki wakati huu",
    result_not_inside: "Hayupo ndani",
    result_error_title: "Haijakaguliwa",
    result_error: "Imeshindikana kukagua: {reason}",
    tap_to_continue: "Gusa kuendelea",
  },
};

const LANGUAGE_KEY = "lango.scan.language";
let language = localStorage.getItem(LANGUAGE_KEY) || (navigator.language.startsWith("sw") ? "sw" : "en");

export function currentLanguage() {
  return language;
}

export function t(key, values = {}) {
  const text = WORDS[language][key] ?? WORDS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function clockTime(iso, { seconds = false } = {}) {
  const parts = { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}) };
  return new Date(iso).toLocaleTimeString(language === "sw" ? "sw-KE" : "en-KE", parts);
}

// Fills every element marked data-i18n (its text) or data-i18n-placeholder.
export function translatePage() {
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
}

export function switchLanguage() {
  language = language === "en" ? "sw" : "en";
  localStorage.setItem(LANGUAGE_KEY, language);
  translatePage();
}
