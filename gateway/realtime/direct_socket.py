"""Engine.IO sockets opened through the front door: packets written straight to their WebSocket connection, with no
queue, writer task or read loop of engine.io's."""

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import engineio
from engineio import exceptions, packet
from engineio.async_socket import AsyncSocket

from gateway.logs import get_logger
from gateway.realtime.deadlines import Deadlines
from gateway.realtime.websocket_connection import OP_BINARY, OP_TEXT, WebSocketConnection, frame_header

if TYPE_CHECKING:
    from gateway.realtime.front_door import Upgrade

log = get_logger("lango.realtime.socket")

# Each server's next pings, one timer for all its sockets.
PING_DEADLINES: "weakref.WeakKeyDictionary[engineio.AsyncServer, Deadlines]" = weakref.WeakKeyDictionary()
_ENGINEIO_PING = b"2"
# Sockets closing because their connection ended, held until engine.io has let them go.
_CLOSING: set["asyncio.Task[None]"] = set()


class DirectWebSocket(AsyncSocket):
    """Stock engine.io queues every packet for a writer task and reads through a coroutine per socket that lives as
    long as the socket. Here the connection (gateway.realtime.websocket_connection) calls in with each message, and
    `send` writes the frame at once; frames leave in call order. The next ping is a timer; a peer that stops
    answering pings is closed by engine.io's ping check."""

    connection: WebSocketConnection | None = None

    async def send(self, pkt: packet.Packet) -> None:
        connection = self.connection
        if connection is None:
            if self.queue is not None:
                await super().send(pkt)
            # else the connection has ended and the socket is closing: there is nowhere to send to.
            return
        if not await self.check_ping_timeout():
            return
        opcode, payload = _payload(pkt)
        connection.send(payload, opcode)

    def send_encoded(self, encoded: bytes) -> None:
        """Like `send`, for a text packet already encoded, without a coroutine: an event going to many sockets is
        encoded once, and each frame skips engine.io's session lookup."""
        connection = self.connection
        if connection is None or self.closed:
            return
        if self.last_ping and time.time() - self.last_ping > self.server.ping_timeout:
            self.server.start_background_task(self.check_ping_timeout)  # closes the socket
            return
        connection.send(encoded)

    def schedule_ping(self) -> None:
        if self.last_ping:
            self.last_ping = None
            PING_DEADLINES[self.server].arm(self.sid, self.server.ping_interval)

    def ping_due(self) -> None:
        connection = self.connection
        if connection is not None and not self.closing and not self.closed:
            self.last_ping = time.time()
            connection.send(_ENGINEIO_PING)

    # What the connection calls (gateway.realtime.websocket_connection.MessageSink).

    def pong(self) -> None:
        self.schedule_ping()

    async def receive_message(self, message: str | bytes) -> None:
        if self.closed:
            return
        try:
            await self.receive(packet.Packet(encoded_packet=message))
        except (exceptions.UnknownPacketError, ValueError):
            pass  # not an engine.io packet: ignored, as engine.io's own read loop does
        except exceptions.SocketIsClosedError:
            pass

    def connection_ended(self) -> None:
        self.connection = None
        task = asyncio.get_running_loop().create_task(self._forget())
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)

    async def _forget(self) -> None:
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        if self.server.sockets.get(self.sid) is self:
            del self.server.sockets[self.sid]
        PING_DEADLINES[self.server].cancel(self.sid)

    async def close(self, wait: bool = True, abort: bool = False, reason: str | None = None) -> None:
        # Waiting means waiting for the queue to drain; a direct socket has no queue once its connection is open.
        await super().close(wait=wait and self.queue is not None, abort=abort, reason=reason)
        connection = self.connection
        if connection is not None:
            # Closed by the server (ping timeout, disconnect; the CLOSE packet is out) or by the client's engine.io
            # CLOSE packet: the WebSocket closes too. (When the connection ended first, there is none left.)
            connection.close()

    async def _websocket_handler(self, upgrade: "Upgrade") -> None:  # type: ignore[override]
        """Take the connection the front door upgraded, and send what was queued before it was ready (the OPEN
        packet, and anything sent while the handshake ran). Nothing here waits, so no message can slip in between."""
        queued = []
        while not self.queue.empty():
            pending = self.queue.get_nowait()
            self.queue.task_done()
            if pending is not None:
                queued.append(pending)
        # An asyncio.Queue is about 3 KB a socket; a direct socket no longer needs one.
        self.queue = None
        # The 101 answer and the queued packets leave in one write.
        self.connection = upgrade.accept(self, opening=b"".join(_frame(pkt) for pkt in queued))
        self.connected = True
        self.upgraded = True
        upgrade.resume()


def _payload(pkt: packet.Packet) -> tuple[int, bytes]:
    """A packet's frame opcode and payload: binary packets as they are, the rest as UTF-8 text."""
    encoded = pkt.encode()
    return (OP_BINARY, encoded) if isinstance(encoded, bytes) else (OP_TEXT, encoded.encode())


def _frame(pkt: packet.Packet) -> bytes:
    opcode, payload = _payload(pkt)
    return frame_header(opcode, len(payload)) + payload


def send_directly_on_websocket(eio: engineio.AsyncServer, through_front_door: Callable[[dict[str, object]], bool]) -> None:
    """Make every socket the front door opens a `DirectWebSocket`, before its transport starts."""
    on_connect = eio.handlers["connect"]

    def ping(eio_sid: str) -> None:
        socket = eio.sockets.get(eio_sid)
        if isinstance(socket, DirectWebSocket):
            socket.ping_due()

    PING_DEADLINES[eio] = Deadlines(ping)

    async def adopt(eio_sid: str, environ: dict[str, object]) -> object:
        socket = eio.sockets.get(eio_sid)
        if through_front_door(environ) and type(socket) is AsyncSocket:
            socket.__class__ = DirectWebSocket
        return await on_connect(eio_sid, environ)

    eio.on("connect", adopt)
