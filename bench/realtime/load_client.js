// Opens N Socket.IO connections and measures what they receive; driven over stdin by bench/realtime.
// Commands (one per line): "reset" clears counters, "report" prints one JSON line of figures, "quit".
const { io } = require("socket.io-client");
const readline = require("readline");

const urls = process.env.TARGET_URLS.split(",");
const tokens = JSON.parse(require("fs").readFileSync(process.env.TOKENS_FILE, "utf8"));
const batch = Number(process.env.CONNECT_BATCH || 200);
let latencies = [];
let received = 0;
let firstAt = null;
let lastAt = null;
let errors = 0;

function now() {
  return performance.timeOrigin + performance.now();
}

function onEvent(event, envelope) {
  const data = envelope && envelope.data ? envelope.data : envelope;
  if (!data || data.sent_at === undefined) return;
  const at = now();
  received += 1;
  if (firstAt === null) firstAt = at;
  lastAt = at;
  latencies.push(at - data.sent_at);
}

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
      latencies = [];
      received = 0;
      firstAt = lastAt = null;
      console.log(JSON.stringify({ reset: true }));
    } else if (line === "report") {
      const sorted = Float64Array.from(latencies).sort();
      console.log(JSON.stringify({
        received,
        // The rate the sockets actually received at: what a step sustained, whatever the publisher managed.
        per_s: received > 1 ? received / ((lastAt - firstAt) / 1000) : null,
        p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99),
        max: sorted.length ? sorted[sorted.length - 1] : null,
      }));
    } else if (line === "quit") {
      sockets.forEach((socket) => socket && socket.disconnect());
      process.exit(0);
    }
  });
})();
