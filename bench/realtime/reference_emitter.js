// Publishes targeted events to the reference server through Redis, as a worker would with @socket.io/redis-emitter.
// One process for the whole run, driven over stdin like the load client, so no step pays its start-up:
// "emit <users> <rate per s> <seconds>" and "broadcast" each answer one JSON line; "quit" ends it.
const { Emitter } = require("@socket.io/redis-emitter");
const { createClient } = require("redis");
const readline = require("readline");

const client = createClient({ url: process.env.REDIS_URL });

function now() {
  return performance.timeOrigin + performance.now();
}

async function emitAtRate(io, users, rate, seconds) {
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
  return sent;
}

client.connect().then(() => {
  const io = new Emitter(client);
  console.log(JSON.stringify({ ready: true }));
  readline.createInterface({ input: process.stdin }).on("line", async (line) => {
    const [command, ...numbers] = line.split(" ");
    if (command === "emit") {
      const [users, rate, seconds] = numbers.map(Number);
      console.log(JSON.stringify({ sent: await emitAtRate(io, users, rate, seconds) }));
    } else if (command === "broadcast") {
      io.emit("notice.posted", { sent_at: now() });
      console.log(JSON.stringify({ sent: 1 }));
    } else if (command === "quit") {
      await client.quit();
      process.exit(0);
    }
  });
});
