// Opens N Socket.IO connections and measures what they receive; driven over stdin by bench/realtime.
// Commands (one per line): "reset" clears counters, "report" prints one JSON line of figures, "close" disconnects
// every socket, "quit".
const { io } = require("socket.io-client");
const { PerformanceObserver } = require("perf_hooks");
const readline = require("readline");

const urls = process.env.TARGET_URLS.split(",");
const tokens = JSON.parse(require("fs").readFileSync(process.env.TOKENS_FILE, "utf8"));
const batch = Number(process.env.CONNECT_BATCH || 200);
const STALL_BIN_MS = 100;
const STALL_OVER_MS = 50;
const TICK_MS = 10;

// Send times and latencies live in preallocated typed arrays: growing plain arrays by copying fills the old
// generation, and the major collections that follow take CPU from the servers being measured.
let sentAt = new Float64Array(1 << 20);
let latencies = new Float64Array(1 << 20);
let received = 0;
let firstAt = null;
let lastAt = null;
let errors = 0;
let clientStalls = [];

function now() {
  return performance.timeOrigin + performance.now();
}

function onEvent(event, envelope) {
  const data = envelope && envelope.data ? envelope.data : envelope;
  if (!data || data.sent_at === undefined) return;
  const at = now();
  if (received === sentAt.length) {
    sentAt = grown(sentAt);
    latencies = grown(latencies);
  }
  sentAt[received] = data.sent_at;
  latencies[received] = at - data.sent_at;
  received += 1;
  if (firstAt === null) firstAt = at;
  lastAt = at;
}

function grown(array) {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

// Where a step's tail came from: the 100 ms windows (by send time, from the step's first event) in which some
// event took longer than STALL_OVER_MS, as [window start s, events in it, slowest ms].
function stalls(first) {
  const bins = new Map();
  for (let i = 0; i < received; i++) {
    const bin = Math.floor((sentAt[i] - first) / STALL_BIN_MS);
    const entry = bins.get(bin) || [0, 0];
    entry[0] += 1;
    entry[1] = Math.max(entry[1], latencies[i]);
    bins.set(bin, entry);
  }
  return [...bins].filter(([, [, slowest]]) => slowest > STALL_OVER_MS).sort((a, b) => a[0] - b[0])
    .map(([bin, [count, slowest]]) => [(bin * STALL_BIN_MS) / 1000, count, Math.round(slowest)]);
}

// This process's own pauses (a late timer, a collection over 5 ms) as [kind, at, ms]: a stall of the load client
// shows as latency of whichever server it measures, so the report says when it had one.
let tickAt = now();
setInterval(() => {
  const at = now();
  if (at - tickAt > TICK_MS + STALL_OVER_MS / 2) clientStalls.push(["lag", at, Math.round(at - tickAt - TICK_MS)]);
  tickAt = at;
}, TICK_MS);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.duration > 5) clientStalls.push([`gc${entry.detail.kind}`, performance.timeOrigin + entry.startTime, Math.round(entry.duration)]);
  }
}).observe({ entryTypes: ["gc"] });

function connectOne(token, index) {
  return new Promise((resolve) => {
    const socket = io(urls[index % urls.length], { transports: ["websocket"], auth: { token }, reconnection: false, forceNew: true });
    socket.onAny(onEvent);
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", () => { errors += 1; resolve(null); });
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function report() {
  const sorted = latencies.slice(0, received).sort();
  const first = received ? sentAt.subarray(0, received).reduce((a, b) => Math.min(a, b)) : null;
  return {
    received,
    // The rate the sockets actually received at: what a step sustained, whatever the publisher managed.
    per_s: received > 1 ? received / ((lastAt - firstAt) / 1000) : null,
    p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99),
    max: received ? sorted[received - 1] : null,
    stalls: received ? stalls(first) : [],
    client_stalls: clientStalls.map(([kind, at, ms]) => [kind, Math.round(at - first), ms]),
  };
}

(async () => {
  const started = now();
  const sockets = [];
  for (let i = 0; i < tokens.length; i += batch) {
    sockets.push(...(await Promise.all(tokens.slice(i, i + batch).map((token, offset) => connectOne(token, i + offset)))));
  }
  const connected = sockets.filter(Boolean).length;
  console.log(JSON.stringify({ connected, errors, connect_s: (now() - started) / 1000 }));
  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    if (line === "reset") {
      received = 0;
      firstAt = lastAt = null;
      clientStalls = [];
      console.log(JSON.stringify({ reset: true }));
    } else if (line === "report") {
      console.log(JSON.stringify(report()));
    } else if (line === "close") {
      // Every socket leaves at once, as after a network blip; the bench times how long the server takes to notice.
      const open = sockets.filter((socket) => socket && socket.connected);
      open.forEach((socket) => socket.disconnect());
      console.log(JSON.stringify({ closed: open.length }));
    } else if (line === "quit") {
      sockets.forEach((socket) => socket && socket.disconnect());
      process.exit(0);
    }
  });
})();
