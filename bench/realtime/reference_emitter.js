// Publishes targeted events to the reference server through Redis, as a worker would with @socket.io/redis-emitter.
// Usage: node reference_emitter.js <users> <rate per s> <seconds> | broadcast
const { Emitter } = require("@socket.io/redis-emitter");
const { createClient } = require("redis");

const [users, rate, seconds] = process.argv.slice(2).map(Number);
const broadcast = process.argv[2] === "broadcast";
const client = createClient({ url: process.env.REDIS_URL });

function now() {
  return performance.timeOrigin + performance.now();
}

client.connect().then(async () => {
  const io = new Emitter(client);
  if (broadcast) {
    io.emit("notice.posted", { sent_at: now() });
    await client.quit();
    console.log(JSON.stringify({ sent: 1 }));
    return;
  }
  const total = Math.round(rate * seconds);
  const started = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const user = Math.floor(Math.random() * users);
      io.to(`user:u${user}`).emit("booking.updated", { sent_at: now(), n: sent });
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await client.quit();
  console.log(JSON.stringify({ sent }));
});
