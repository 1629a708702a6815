// Checking a ticket's QR secret on the device with the event's scanner kit: the layout of
// gateway/tickets/secrets.py, its Ed25519 signature through WebCrypto, the kit's revocation list.
const PAYLOAD_BYTES = 49;
const SIGNATURE_BYTES = 64;
const SECRET_LENGTH = 151;
const SECRET_FORMAT = 1;

function fromBase64Url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(base64);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

const hex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

// The claims of a well-formed secret, not yet verified; null for anything else.
export function readSecret(secret) {
  if (typeof secret !== "string" || secret.length !== SECRET_LENGTH || !/^[A-Za-z0-9_-]+$/.test(secret)) return null;
  const raw = fromBase64Url(secret);
  if (raw.length !== PAYLOAD_BYTES + SIGNATURE_BYTES || raw[0] !== SECRET_FORMAT) return null;
  const view = new DataView(raw.buffer);
  return {
    ticketId: hex(raw.subarray(1, 13)),
    eventId: hex(raw.subarray(13, 25)),
    ticketTypeId: hex(raw.subarray(25, 37)),
    validFrom: view.getUint32(37) * 1000,
    validUntil: view.getUint32(41) * 1000,
    version: view.getUint16(45),
    kid: view.getUint16(47),
    payload: raw.subarray(0, PAYLOAD_BYTES),
    signature: raw.subarray(PAYLOAD_BYTES),
  };
}

const importedKeys = new Map();

function publicKey(kit, kid) {
  const entry = kit.keys.find((key) => key.kid === kid);
  if (!entry) return null;
  const cacheKey = `${kit.event_id}:${kid}:${entry.public_key}`;
  if (!importedKeys.has(cacheKey)) {
    importedKeys.set(cacheKey, crypto.subtle.importKey("raw", fromBase64Url(entry.public_key), { name: "Ed25519" }, false, ["verify"]));
  }
  return importedKeys.get(cacheKey);
}

// Imports the kit's keys and verifies once ahead of the first scan, so that it pays for neither.
export async function prepareKit(kit) {
  for (const entry of kit.keys) {
    const key = await publicKey(kit, entry.kid);
    await crypto.subtle.verify({ name: "Ed25519" }, key, new Uint8Array(SIGNATURE_BYTES), new Uint8Array(PAYLOAD_BYTES));
  }
}

// What the door says about a secret, judged with the kit alone at `moment` (ms): { result, claims }.
// `ok` here means genuine and not revoked; whether this device let it in already is the store's to say.
export async function judgeOffline(kit, secret, moment) {
  const claims = readSecret(secret);
  if (!claims) return { result: "invalid", claims: null };
  if (claims.eventId !== kit.event_id) return { result: "wrong_event", claims };
  const key = await publicKey(kit, claims.kid);
  const genuine = key !== null && (await crypto.subtle.verify({ name: "Ed25519" }, await key, claims.signature, claims.payload));
  if (!genuine) return { result: "invalid", claims: null };
  const revocation = kit.revoked.find((entry) => entry.ticket_id === claims.ticketId);
  if (kit.status === "cancelled" || (revocation && revocation.current_version !== claims.version)) {
    return { result: "revoked", claims };
  }
  if (moment < claims.validFrom || moment > claims.validUntil) return { result: "not_valid_now", claims };
  return { result: "ok", claims };
}
