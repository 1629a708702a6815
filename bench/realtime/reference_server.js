// The Node.js reference: socket.io with its Redis adapter, each socket in the room of the user named by its token.
const { createServer } = require("http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

const crypto = require("crypto");

const port = Number(process.env.PORT);
// With VERIFY_KEYS (a JWKS of Ed25519 keys), tokens are Lango's access JWTs, checked as Lango checks them.
const keys = process.env.VERIFY_KEYS
  ? new Map(JSON.parse(process.env.VERIFY_KEYS).keys.map((jwk) => [jwk.kid, crypto.createPublicKey({ key: jwk, format: "jwk" })]))
  : null;

function verifiedUser(token) {
  try {
    const [header, payload, signature] = token.split(".");
    const key = keys.get(JSON.parse(Buffer.from(header, "base64url")).kid);
    if (!key || !crypto.verify(null, Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, "base64url"))) return null;
    const claims = JSON.parse(Buffer.from(payload, "base64url"));
    const now = Date.now() / 1000;
    if (claims.iss !== "lango" || claims.aud !== "lango" || claims.use !== "access" || !(claims.exp > now - 10)) return null;
    return claims.sub;
  } catch {
    return null;
  }
}
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
    socket.data.userId = keys ? verifiedUser(token) : token;
    next(socket.data.userId ? undefined : new Error("invalid_token"));
  });
  io.on("connection", (socket) => socket.join(`user:${socket.data.userId}`));
  // The bench times a mass disconnect by polling this count, as it reads lango_sockets_connected from Lango.
  io.httpServer.on("request", (request, response) => {
    if (request.url === "/sockets") response.end(String(io.engine.clientsCount));
  });
  console.log(`reference listening on ${port}`);
});
