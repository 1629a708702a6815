// The gateway's HTTP API as the scanner uses it: sign-in (with two-factor), tokens kept fresh, door routes.
const SESSION_KEY = "lango.scan.session";
const DEVICE_KEY = "lango.scan.device_token";
// Refresh this long before the access token runs out (or a quarter of its life, if that is shorter).
const REFRESH_MARGIN_MS = 60_000;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.type = problem?.type?.split(":").pop() ?? "";
  }
}

let session = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
let refreshing = null;

export function currentSession() {
  return session;
}

function keep(tokens, account) {
  session = {
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    refreshAt: Date.now() + tokens.expires_in * 1000 - Math.min(REFRESH_MARGIN_MS, tokens.expires_in * 250),
    account: account ?? session?.account,
  };
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function forget() {
  session = null;
  localStorage.removeItem(SESSION_KEY);
}

async function call(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function identifier(text) {
  return text.includes("@") ? { email: text } : { phone: text };
}

// Answers "signed_in", "mfa_required" (with the token for the second step) or "mfa_enrolment_required".
export async function signIn(who, password) {
  const deviceToken = localStorage.getItem(DEVICE_KEY);
  const answer = await call("POST", "/v1/auth/login", {
    ...identifier(who.trim()), password, device: "Door scanner", ...(deviceToken ? { device_token: deviceToken } : {}),
  });
  if (answer.status === "signed_in") finishSignIn(answer);
  return answer;
}

export async function secondFactor(mfaToken, code, backupCode) {
  const factor = code ? { code } : { backup_code: backupCode };
  finishSignIn(await call("POST", "/v1/auth/login/mfa", { mfa_token: mfaToken, device: "Door scanner", ...factor }));
}

function finishSignIn(answer) {
  if (answer.device_token) localStorage.setItem(DEVICE_KEY, answer.device_token);
  keep(answer.tokens, { id: answer.account.id, roles: answer.account.roles });
}

// A fresh access token; one refresh at a time, since a refresh token is good for one use only.
export async function accessToken() {
  if (!session) throw new ApiError(401, { title: "signed out" });
  if (Date.now() < session.refreshAt) return session.access;
  refreshing ??= call("POST", "/v1/auth/refresh", { refresh_token: session.refresh, device: "Door scanner" })
    .then((tokens) => keep(tokens))
    .finally(() => { refreshing = null; });
  await refreshing;
  return session.access;
}

export async function authorized(method, path, body) {
  return call(method, path, body, await accessToken());
}

export async function signOut() {
  try {
    await authorized("POST", "/v1/auth/logout");
  } finally {
    forget();
  }
}

export const eventsToScan = () => authorized("GET", "/v1/events?scanning=true&limit=100");
export const readEvent = (eventId) => authorized("GET", `/v1/events/${eventId}`);
export const scannerKit = (eventId) => authorized("GET", `/v1/events/${eventId}/scanner-kit`);
export const doorStats = (eventId) => authorized("GET", `/v1/events/${eventId}/stats`);
export const uploadScans = (eventId, scans) => authorized("POST", `/v1/events/${eventId}/scans/batch`, { scans });
