"""Engine.IO sockets opened on WebSocket write each packet straight to it: no queue, writer task or task per read."""

import time
import weakref
from urllib.parse import parse_qs

import engineio
from aiohttp import WSMsgType
from engineio import exceptions, packet
from engineio.async_drivers.aiohttp import WebSocket
from engineio.async_socket import AsyncSocket

from gateway.logs import get_logger
from gateway.realtime.deadlines import Deadlines

log = get_logger("lango.realtime.socket")

# Each server's next pings, one timer for all its sockets.
PING_DEADLINES: "weakref.WeakKeyDictionary[engineio.AsyncServer, Deadlines]" = weakref.WeakKeyDictionary()


class DirectWebSocket(AsyncSocket):
    """Stock engine.io queues every packet for a writer task and reads each message through a task of its own.

    Here, once the packets queued before the WebSocket was ready are flushed (and the queue let go: an
    asyncio.Queue is 3 KB a socket), `send` writes the frame itself:
    aiohttp writes an uncompressed frame before its first await, so frames leave in call order. Reads need
    no task and no timeout of their own: the next ping is a timer, and a peer that stops answering pings is
    closed by engine.io's ping check, which ends the read. Sockets that start on polling keep engine.io's path."""

    direct: WebSocket | None = None

    async def send(self, pkt: packet.Packet) -> None:
        ws = self.direct
        if ws is None:
            if self.queue is not None:
                await super().send(pkt)
            # else the WebSocket has ended and the socket is closing: there is nowhere to send to.
            return
        if not await self.check_ping_timeout():
            return
        try:
            await ws.send(pkt.encode())
        except ConnectionError:
            # The peer is gone; the read loop sees the closed connection and ends the socket.
            pass

    async def send_encoded(self, encoded: bytes) -> None:
        """Like `send`, for a text packet already encoded: an event going to many sockets is encoded once, and
        the frame skips engine.io's session lookup and aiohttp's str encoding on the way."""
        ws = self.direct
        if ws is None or self.closed:
            return
        if self.last_ping and time.time() - self.last_ping > self.server.ping_timeout:
            await self.check_ping_timeout()  # closes the socket
            return
        try:
            # engine.io's aiohttp driver keeps the aiohttp WebSocketResponse as `_sock`; its `send` takes str only.
            await ws._sock.send_frame(encoded, WSMsgType.TEXT)
        except ConnectionError:
            pass

    def schedule_ping(self) -> None:
        if self.last_ping:
            self.last_ping = None
            PING_DEADLINES[self.server].arm(self.sid, self.server.ping_interval)

    def ping_due(self) -> None:
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.server.start_background_task(self.send, packet.Packet(packet.PING))

    async def close(self, wait: bool = True, abort: bool = False, reason: str | None = None) -> None:
        # Waiting means waiting for the queue to drain; a direct socket has no queue left once flushed.
        await super().close(wait=wait and self.queue is not None, abort=abort, reason=reason)
        ws = self.direct
        if ws is not None and not abort:
            # Closed from this side (ping timeout, server disconnect): end the read too. Closing waits for the
            # peer's answer, which a vanished phone never sends, so it runs on its own.
            self.server.start_background_task(ws.close)

    async def _websocket_handler(self, ws: WebSocket) -> None:
        self.connected = True
        self.upgraded = True
        try:
            await self._flush_queue(ws)
            await self._read(ws)
        finally:
            self.direct = None
            await ws.close()
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    async def _flush_queue(self, ws: WebSocket) -> None:
        # The OPEN packet, and anything sent while the handshake ran, wait in the queue.
        while not self.queue.empty():
            pending = self.queue.get_nowait()
            self.queue.task_done()
            if pending is not None:
                await ws.send(pending.encode())
        # No await since the queue was last seen empty: no packet can slip in between.
        self.direct = ws
        self.queue = None

    async def _read(self, ws: WebSocket) -> None:
        while True:
            try:
                data = await ws.wait()
            except OSError:
                return
            if len(data) > self.server.max_http_buffer_size:
                return
            try:
                await self.receive(packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                continue
            except exceptions.SocketIsClosedError:
                return
            except Exception:
                log.exception("socket message failed", sid=self.sid)


def send_directly_on_websocket(eio: engineio.AsyncServer) -> None:
    """Make every socket that opens on WebSocket a `DirectWebSocket`, before its transport starts."""
    on_connect = eio.handlers["connect"]

    def ping(eio_sid: str) -> None:
        socket = eio.sockets.get(eio_sid)
        if isinstance(socket, DirectWebSocket):
            socket.ping_due()

    PING_DEADLINES[eio] = Deadlines(ping)

    async def adopt(eio_sid: str, environ: dict[str, object]) -> object:
        socket = eio.sockets.get(eio_sid)
        transport = parse_qs(str(environ.get("QUERY_STRING", ""))).get("transport", ["polling"])[0]
        if transport == "websocket" and type(socket) is AsyncSocket:
            socket.__class__ = DirectWebSocket
        return await on_connect(eio_sid, environ)

    eio.on("connect", adopt)
