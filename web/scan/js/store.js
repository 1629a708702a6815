// What the scanner keeps on the device, in IndexedDB: each event's kit, the tickets this device let in,
// the scans waiting to be sent, and the conflicts the server reported.
const DATABASE = "lango-scan";
const VERSION = 1;

function opened() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("kits", { keyPath: "event_id" });
      db.createObjectStore("admitted", { keyPath: "key" });
      db.createObjectStore("queue", { keyPath: "nonce" }).createIndex("by_event", "event_id");
      db.createObjectStore("conflicts", { keyPath: "nonce" }).createIndex("by_event", "event_id");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const database = opened();

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error("transaction aborted"));
  });
}

async function read(storeName, action) {
  const db = await database;
  return done(action(db.transaction(storeName).objectStore(storeName)));
}

async function write(storeNames, action) {
  const db = await database;
  const transaction = db.transaction(storeNames, "readwrite");
  action(transaction);
  await finished(transaction);
}

const admittedKey = (eventId, ticketId) => `${eventId}:${ticketId}`;

export const saveKit = (kit) => write(["kits"], (tx) => tx.objectStore("kits").put(kit));
export const loadKit = (eventId) => read("kits", (store) => store.get(eventId));
export const admittedHere = (eventId, ticketId) => read("admitted", (store) => store.get(admittedKey(eventId, ticketId)));
export const queuedFor = (eventId) => read("queue", (store) => store.index("by_event").getAll(eventId));
export const queuedCount = () => read("queue", (store) => store.count());
export const conflictsOf = (eventId) => read("conflicts", (store) => store.index("by_event").getAll(eventId));

export async function queuedEvents() {
  const all = await read("queue", (store) => store.getAll());
  return [...new Set(all.map((entry) => entry.event_id))];
}

// Remembers a ticket this device let in while online, so that it is refused here offline too.
export const rememberAdmitted = (eventId, ticketId, gate, at) =>
  write(["admitted"], (tx) => tx.objectStore("admitted").put({ key: admittedKey(eventId, ticketId), gate, at }));

// Lets a ticket in offline: in one transaction, so two scans of one ticket on this device cannot both pass.
// Answers the earlier admission when there was one, and queues nothing then.
export async function admitOffline(eventId, ticketId, scan) {
  const db = await database;
  const transaction = db.transaction(["admitted", "queue"], "readwrite");
  const admitted = transaction.objectStore("admitted");
  let earlier = null;
  admitted.get(admittedKey(eventId, ticketId)).onsuccess = (found) => {
    earlier = found.target.result ?? null;
    if (earlier) return;
    admitted.put({ key: admittedKey(eventId, ticketId), gate: scan.gate, at: scan.scanned_at });
    transaction.objectStore("queue").put({ nonce: scan.nonce, event_id: eventId, ticket_id: ticketId, scan });
  };
  await finished(transaction);
  return earlier;
}

// One read-write transaction over the stores an offline admission writes, reading a key that is never there:
// run when a door opens, so the first ticket let in offline does not pay for IndexedDB's first such transaction.
export const warmUp = () => write(["admitted", "queue"], (tx) => tx.objectStore("admitted").get(""));

// The server has the batch: its scans leave the queue, its conflicts are kept for the staff to see.
export const settleBatch = (eventId, nonces, conflicts) =>
  write(["queue", "conflicts"], (tx) => {
    for (const nonce of nonces) tx.objectStore("queue").delete(nonce);
    for (const conflict of conflicts) tx.objectStore("conflicts").put({ ...conflict, event_id: eventId });
  });
