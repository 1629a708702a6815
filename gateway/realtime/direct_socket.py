"""Engine.IO sockets opened through the front door: a handshake checked and answered as engine.io answers it, then
packets written straight to their WebSocket connection, with no queue, writer task or read loop of engine.io's."""

import asyncio
import time
import weakref
from typing import TYPE_CHECKING, Any

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

    def __init__(self, server: engineio.AsyncServer, sid: str) -> None:
        # engine.io's BaseSocket state, without the asyncio.Queue (about 3 KB) a direct socket never uses.
        self.server, self.sid = server, sid
        self.queue = None
        self.last_ping = time.time()
        self.connected = self.upgrading = self.upgraded = self.closing = self.closed = False
        self.session: dict[str, Any] = {}

    async def send(self, pkt: packet.Packet) -> None:
        connection = self.connection
        if connection is None:
            return  # not open yet, or the connection has ended and the socket is closing: nowhere to send to
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
        # Waiting means waiting for the queue to drain; a direct socket has none.
        await super().close(wait=False, abort=abort, reason=reason)
        connection = self.connection
        if connection is not None:
            # Closed by the server (ping timeout, disconnect; the CLOSE packet is out) or by the client's engine.io
            # CLOSE packet: the WebSocket closes too. (When the connection ended first, there is none left.)
            connection.close()

    def _open(self, upgrade: "Upgrade") -> None:
        """Answer the handshake: the 101 and engine.io's OPEN packet in one write; then the connection is this socket's."""
        server = self.server
        opened = packet.Packet(packet.OPEN, {
            "sid": self.sid,
            "upgrades": [],  # a socket opened on a WebSocket has nothing to upgrade to
            "pingTimeout": int(server.ping_timeout * 1000),
            "pingInterval": int(server.ping_interval + server.ping_interval_grace_period) * 1000,
            "maxPayload": server.max_http_buffer_size,
        })  # fmt: skip
        self.connection = upgrade.accept(self, opening=_frame(opened))
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


def keep_ping_deadlines(eio: engineio.AsyncServer) -> None:
    """Give the server's direct sockets their ping timer."""

    def ping(eio_sid: str) -> None:
        socket = eio.sockets.get(eio_sid)
        if isinstance(socket, DirectWebSocket):
            socket.ping_due()

    PING_DEADLINES[eio] = Deadlines(ping)


async def open_direct_socket(
    eio: engineio.AsyncServer, environ: dict[str, Any], query: dict[str, list[str]], upgrade: "Upgrade"
) -> dict[str, Any] | None:
    """engine.io's handshake (`AsyncServer.handle_request`, then `_handle_connect`) of a WebSocket the front door
    read, whose transport, upgrade and missing sid it has checked: the other checks, the same state and the same
    refusals, without the socket's queue and the trip through engine.io's transport. None once the socket is open,
    else engine.io's answer (status, headers, response)."""
    answer = _refusal(eio, environ, query)
    if answer is None:
        if eio.start_service_task:
            eio.start_service_task = False
            eio.service_task_handle = eio.start_background_task(eio._service_task)
        sid = eio.generate_id()
        socket = DirectWebSocket(eio, sid)
        eio.sockets[sid] = socket
        accepted = await eio._trigger_event("connect", sid, environ, run_async=False)
        if accepted is None or accepted is True:
            socket.schedule_ping()
            socket._open(upgrade)
            return None
        del eio.sockets[sid]
        eio.logger.warning("Application rejected connection")
        answer = eio._unauthorized(accepted or None)
    answer["headers"] += eio._cors_headers(environ)
    return answer


def _refusal(eio: engineio.AsyncServer, environ: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any] | None:
    """engine.io's 400 answer to a handshake it would not take, checked in its order; None for one it takes. (The
    transport needs no check: the front door opens only when the WebSocket transport is on.)"""
    origin = environ.get("HTTP_ORIGIN")
    if eio.cors_allowed_origins != [] and origin:
        allowed = eio._cors_allowed_origins(environ)
        if allowed is not None and origin not in allowed:
            return _bad_request(eio, origin + " is not an accepted origin.", "bad-origin")
    if query.get("EIO") != ["4"]:
        message = "The client is using an unsupported version of the Socket.IO or Engine.IO protocols"
        return _bad_request(eio, message, "bad-version")
    if "j" in query:
        try:
            int(query["j"][0])
        except ValueError:
            return _bad_request(eio, "Invalid JSONP index number", "bad-jsonp-index")
    return None


def _bad_request(eio: engineio.AsyncServer, message: str, log_key: str) -> dict[str, Any]:
    eio._log_error_once(message, log_key)
    return eio._bad_request(message)
