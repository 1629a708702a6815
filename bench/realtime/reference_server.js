// The Node.js reference: socket.io with its Redis adapter, each socket in the room of the user named by its token.
const { createServer } = require("http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

const port = Number(process.env.PORT);
const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();

Promise.all([pub.connect(), sub.connect()]).then(() => {
  const io = new Server(createServer().listen(port, "127.0.0.1"), {
    adapter: createAdapter(pub, sub),
    transports: ["websocket"],
    perMessageDeflate: false,
  });
  io.use((socket, next) => {
    const token = socket.handshake.auth && socket.handshake.auth.token;
    if (!token) return next(new Error("missing_token"));
    socket.data.userId = token;
    next();
  });
  io.on("connection", (socket) => socket.join(`user:${socket.data.userId}`));
  // The bench times a mass disconnect by polling this count, as it reads lango_sockets_connected from Lango.
  io.httpServer.on("request", (request, response) => {
    if (request.url === "/sockets") response.end(String(io.engine.clientsCount));
  });
  console.log(`reference listening on ${port}`);
});
