// One door of one event: scans answered by the server over Socket.IO while online, by the device with the
// event's scanner kit while offline (queued, then sent as one batch when the network is back), and the live counts.
import { io } from "../vendor/socket.io.esm.min.js";
import { ApiError, accessToken, doorStats, scannerKit, uploadScans } from "./api.js";
import * as store from "./store.js";
import { judgeOffline, prepareKit } from "./tickets.js";

const ACK_TIMEOUT_MS = 4000;
const BATCH_SIZE = 500;
const KIT_REFRESH_MS = 5 * 60_000;
const TOKEN_CHECK_MS = 60_000;
// Scans queued while the network seemed up but an ack was lost wait at most this long.
const SYNC_MS = 30_000;
const RETRY_CONNECT_MS = 5000;
// A scan in the first moments after the door opens waits this long for the socket's first connect.
const FIRST_CONNECT_WAIT_MS = 4000;

const newNonce = () => crypto.randomUUID().replaceAll("-", "");

export class Door {
  // listeners: {status(), stats(stats), kit(kit), conflicts(list), signedOut(code), syncFailed(reason or null)}
  constructor({ eventId, gate, ticketTypes, listeners }) {
    this.eventId = eventId;
    this.gate = gate;
    this.ticketTypes = ticketTypes;
    this.listeners = listeners;
    this.stats = null;
    this.kit = null;
    this.syncing = false;
    this.timers = [];
    this.socketToken = null;
    this.everConnected = false;
  }

  get online() {
    return navigator.onLine && this.socket?.connected === true;
  }

  async open() {
    this.kit = (await store.loadKit(this.eventId)) ?? null;
    this.listeners.kit(this.kit);
    if (this.kit) prepareKit(this.kit).catch(() => null);
    store.warmUp().catch(() => null);
    this.socket = io({
      transports: ["websocket"],
      auth: (send) => accessToken().then(
        (token) => { this.socketToken = token; send({ token }); },
        (error) => { this.refusedRefresh(error); send({}); },
      ),
    });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", () => this.listeners.status());
    this.socket.on("connect_error", (error) => this.onRefused(error));
    // Refused just after the CONNECT, by the checks that ask Redis: the same codes, handled the same way.
    this.socket.on("connect.refused", (refusal) => this.onRefused({ message: refusal.code }));
    this.socket.on("checkin.stats", (envelope) => this.takeStats(envelope.data));
    this.socket.on("auth.expired", () => accessToken().then(() => this.socket.connect()));
    this.socket.on("auth.revoked", () => this.listeners.signedOut("session_revoked"));
    this.onOnline = () => { this.listeners.status(); if (!this.socket.connected) this.socket.connect(); this.sync(); };
    this.onOffline = () => this.listeners.status();
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.timers.push(
      setInterval(() => this.refreshKit().catch(() => null), KIT_REFRESH_MS),
      setInterval(() => this.keepTokenFresh(), TOKEN_CHECK_MS),
      setInterval(() => this.sync(), SYNC_MS),
    );
    this.listeners.conflicts(await store.conflictsOf(this.eventId));
  }

  close() {
    // Work still in flight (a sync, a reconnect) finishes without touching the screen of whatever comes next.
    this.listeners = Object.fromEntries(Object.keys(this.listeners).map((name) => [name, () => {}]));
    for (const timer of this.timers) clearInterval(timer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.socket?.disconnect();
  }

  async onConnect() {
    this.everConnected = true;
    this.listeners.status();
    const joined = await this.socket.emitWithAck("rooms.join", { room: `event:${this.eventId}:scanners` });
    if (!joined.ok) console.warn("rooms.join", joined.error);
    await Promise.allSettled([this.refreshKit(), this.sync()]);
  }

  async onRefused(error) {
    this.listeners.status();
    if (["invalid_token", "session_revoked"].includes(error.message)) {
      this.listeners.signedOut(error.message);
      return;
    }
    // missing_token: the token could not be refreshed just now (no network, the gateway unreachable): try again.
    if (error.message === "token_expired") await accessToken().catch((refused) => this.refusedRefresh(refused));
    // The server refused this handshake (rather than the network failing it): the client will not retry by itself.
    if (!this.socket.active) setTimeout(() => this.socket.connect(), error.message === "token_expired" ? 0 : RETRY_CONNECT_MS);
  }

  // A refresh the server answered 401 (the session was signed out, the refresh token reused) ends the session;
  // a network failure does not: the phone keeps checking tickets offline meanwhile.
  refusedRefresh(error) {
    if (error?.status === 401) this.listeners.signedOut(error.type || "session_revoked");
  }

  async keepTokenFresh() {
    if (!this.online) return;
    const token = await accessToken().catch((error) => this.refusedRefresh(error));
    if (token && token !== this.socketToken) {
      this.socketToken = token;
      await this.socket.emitWithAck("auth.refresh", { token });
    }
  }

  takeStats(stats) {
    if ((stats.event_id && stats.event_id !== this.eventId) || (this.stats && stats.version <= this.stats.version)) return;
    this.stats = stats;
    this.listeners.stats(stats);
  }

  async refreshKit() {
    if (!navigator.onLine) return;
    const kit = await scannerKit(this.eventId);
    await store.saveKit(kit);
    await prepareKit(kit);
    this.kit = kit;
    this.listeners.kit(kit);
  }

  // The answer to one scanned secret: {result, holder_name?, ticket_type?, redeemed_gate?, redeemed_at?, offline?}.
  async scan(secret) {
    const scan = { secret, type: "entry", gate: this.gate, nonce: newNonce(), scanned_at: new Date().toISOString() };
    if (!this.everConnected && navigator.onLine) await this.firstConnect();
    if (this.online) {
      try {
        const ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("ticket.scan", { ...scan, event_id: this.eventId });
        if (!ack.ok) return { result: "error", reason: ack.error.message };
        // Whoever let the ticket in, this phone refuses it too if it is scanned here later with no network.
        if (ack.result === "ok") await store.rememberAdmitted(this.eventId, ack.ticket_id, this.gate, scan.scanned_at);
        if (ack.result === "already_redeemed" && ack.ticket_id) {
          await store.rememberAdmitted(this.eventId, ack.ticket_id, ack.redeemed_gate, ack.redeemed_at);
        }
        return ack;
      } catch {
        // No ack in time: judged here instead. If the server did admit it, the batch repeats the same nonce,
        // and the server answers it as it did the first time, changing nothing.
      }
    }
    return this.scanOffline(scan);
  }

  // Resolves once the socket has connected, or after FIRST_CONNECT_WAIT_MS: a door just opened is not yet offline.
  firstConnect() {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.socket.off("connect", done); resolve(); };
      const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
      this.socket.once("connect", done);
    });
  }

  async scanOffline(scan) {
    if (!this.kit) return { result: "error", reason: "no scanner kit on this device", offline: true };
    const { result, claims } = await judgeOffline(this.kit, scan.secret, Date.now());
    if (result !== "ok") return { result, offline: true };
    const ticketType = this.ticketTypes[claims.ticketTypeId];
    const earlier = await store.admitOffline(this.eventId, claims.ticketId, scan);
    this.listeners.status();
    if (earlier) return { result: "already_redeemed", redeemed_gate: earlier.gate, redeemed_at: earlier.at, ticket_type: ticketType, offline: true };
    if (navigator.onLine) this.sync();
    return { result: "ok", ticket_type: ticketType, offline: true };
  }

  // Sends every queued scan (of any event this device scanned), oldest first, in batches; safe to repeat.
  async sync() {
    if (this.syncing || !navigator.onLine) return;
    this.syncing = true;
    try {
      for (const eventId of await store.queuedEvents()) {
        const queued = (await store.queuedFor(eventId)).sort((a, b) => a.scan.scanned_at.localeCompare(b.scan.scanned_at));
        for (let start = 0; start < queued.length; start += BATCH_SIZE) {
          const batch = queued.slice(start, start + BATCH_SIZE);
          const answer = await uploadScans(eventId, batch.map((entry) => entry.scan));
          await store.settleBatch(eventId, batch.map((entry) => entry.nonce), answer.conflicts);
        }
      }
      this.listeners.conflicts(await store.conflictsOf(this.eventId));
      this.takeStats(await doorStats(this.eventId));
      this.listeners.syncFailed(null);
    } catch (error) {
      // Kept in the queue; the staff see why (a refused batch names its reason, e.g. the phone's clock is ahead).
      this.listeners.syncFailed(error instanceof ApiError ? error.message : null);
    } finally {
      this.syncing = false;
      this.listeners.status();
    }
  }
}
