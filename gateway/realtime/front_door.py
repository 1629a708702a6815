"""The first bytes of every connection: a Socket.IO WebSocket handshake is taken by the realtime server on a
connection of its own; anything else is handed, bytes and all, to aiohttp.

aiohttp serves a WebSocket from inside a request handler, so for as long as the socket lives it keeps the request,
its parser, the response, a reader queue and the handler's suspended coroutines: about half of what a connected
phone cost. Here the handshake is read once, checked and answered as engine.io would (gateway.realtime.direct_socket),
and the connection is then a `WebSocketConnection` and nothing more."""

import asyncio
import base64
import binascii
import functools
import hashlib
import socket
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import socketio

from gateway.client_address import IPNetwork, forwarded_client
from gateway.logs import get_logger
from gateway.realtime.direct_socket import open_direct_socket
from gateway.realtime.websocket_connection import MessageSink, WebSocketConnection

log = get_logger("lango.realtime.front_door")

_SOCKETIO_GET = b"GET /socket.io/?"
# As large a head as aiohttp reads in one line; a bigger one is aiohttp's to refuse.
_MAX_HEAD_BYTES = 8190
_WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Clients send the same few query strings (`EIO=4&transport=websocket`): each is parsed once, as engine.io parses it.
# The dicts are shared, so only read.
_parse_query = functools.lru_cache(maxsize=64)(parse_qs)


class Entrance:
    """What the front door needs of the gateway: the Socket.IO server, aiohttp for everything else, and the
    rules for the client's address and the connection's limits."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        http: Callable[[], asyncio.Protocol],
        *,
        trusted_proxies: Sequence[IPNetwork],
        max_message_bytes: int,
        max_unsent_bytes: int,
        handshake_timeout_s: float,
    ) -> None:
        self.sio = sio
        self.http = http
        self.trusted_proxies = trusted_proxies
        self.max_message_bytes = max_message_bytes
        self.max_unsent_bytes = max_unsent_bytes
        self.handshake_timeout_s = handshake_timeout_s
        self._upgrading: set[asyncio.Task[None]] = set()

    def door(self) -> "FrontDoor":
        return FrontDoor(self)

    def start_upgrade(self, door: "FrontDoor", target: str, query: dict[str, list[str]], headers: dict[str, str]) -> None:
        task = asyncio.get_running_loop().create_task(self._upgrade(door, target, query, headers))
        self._upgrading.add(task)
        task.add_done_callback(self._upgrading.discard)

    async def _upgrade(self, door: "FrontDoor", target: str, query: dict[str, list[str]], headers: dict[str, str]) -> None:
        peer = door.transport.get_extra_info("peername")
        address = forwarded_client(peer[0] if peer else None, [headers.get("x-forwarded-for", "")], self.trusted_proxies)
        # What engine.io's checks and the connect handlers read of a request.
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "QUERY_STRING": target.partition("?")[2],
            "REMOTE_ADDR": address or "unknown",
            "wsgi.url_scheme": headers.get("x-forwarded-proto", "http"),
        }
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        try:
            answer = await open_direct_socket(self.sio.eio, environ, query, Upgrade(self, door, headers["sec-websocket-key"]))
        except Exception:
            log.exception("socket handshake failed")
            answer = {"status": "500", "headers": [], "response": b""}
        if answer is not None:
            door.answer(answer)

    def close(self) -> None:
        """On shutdown, after the hub's drain: close every connection still open (sockets that never finished the
        Socket.IO handshake, and any the drain missed) without waiting for the peers."""
        for task in list(self._upgrading):
            task.cancel()
        for eio_socket in list(self.sio.eio.sockets.values()):
            connection = getattr(eio_socket, "connection", None)
            if connection is not None:
                connection.close(wait_for_peer=False)


class Upgrade:
    """A handshake engine.io accepted: the 101 answer, and the connection taking over from the front door."""

    __slots__ = ("_entrance", "_door", "_key", "_connection")

    def __init__(self, entrance: Entrance, door: "FrontDoor", key: str) -> None:
        self._entrance, self._door, self._key = entrance, door, key
        self._connection: WebSocketConnection | None = None

    def accept(self, sink: MessageSink, opening: bytes = b"") -> WebSocketConnection:
        """Answer 101, with `opening` (the socket's first frames) in the same write."""
        door, entrance = self._door, self._entrance
        transport = door.transport
        connection = WebSocketConnection(transport, sink, entrance.max_message_bytes, entrance.max_unsent_bytes)
        if not door.lost:
            accepted = base64.b64encode(hashlib.sha1(self._key.encode() + _WEBSOCKET_GUID).digest())
            transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            b"Sec-WebSocket-Accept: " + accepted + b"\r\n\r\n" + opening)  # fmt: skip
            transport.set_protocol(connection)
        self._connection = connection
        return connection

    def resume(self) -> None:
        """Bytes that came with or after the handshake reach the connection; a connection lost meanwhile ends."""
        connection, door = self._connection, self._door
        assert connection is not None, "accept() comes first"
        if door.lost:
            connection.connection_lost(None)
        elif door.leftover:
            connection.data_received(door.leftover)
        door.leftover = b""


class FrontDoor(asyncio.Protocol):
    """Reads a connection's first bytes; keeps them only while they may still be a Socket.IO handshake."""

    __slots__ = ("_entrance", "transport", "leftover", "_timer", "_upgrading", "lost")

    def __init__(self, entrance: Entrance) -> None:
        self._entrance = entrance
        self.leftover = b""
        self._timer: asyncio.TimerHandle | None = None
        self._upgrading = False
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Frames are small and must leave at once.
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        head = self.leftover + data if self.leftover else data
        if self._upgrading:
            # Sent before the 101: kept for the connection, within what one message may be.
            if len(head) > self._entrance.max_message_bytes:
                self.transport.abort()
            self.leftover = head
            return
        if not head.startswith(_SOCKETIO_GET[: len(head)]):
            self._to_http(head)
            return
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) > _MAX_HEAD_BYTES:
                self._to_http(head)
                return
            self.leftover = head
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self._entrance.handshake_timeout_s, self.transport.abort)
            return
        request = socketio_handshake(head[:end])
        if request is None:
            self._to_http(head)
            return
        self._stop_timer()
        self._upgrading = True
        self.leftover = head[end + 4 :]
        self._entrance.start_upgrade(self, *request)

    def answer(self, answer: dict[str, Any]) -> None:
        """Engine.IO's refusal (its status, headers and response) as an HTTP answer, and the connection closed."""
        if self.lost:
            return
        status = int(answer["status"].split()[0])
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        lines += [f"{name}: {value}" for name, value in answer["headers"]]
        lines += [f"Content-Length: {len(answer['response'])}", "Connection: close", "", ""]
        self.transport.write("\r\n".join(lines).encode("latin-1") + answer["response"])
        self.transport.close()

    def _to_http(self, data: bytes) -> None:
        self._stop_timer()
        self.leftover = b""
        handler = self._entrance.http()
        self.transport.set_protocol(handler)
        handler.connection_made(self.transport)
        handler.data_received(data)  # type: ignore[attr-defined]

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._stop_timer()


def socketio_handshake(head: bytes) -> tuple[str, dict[str, list[str]], dict[str, str]] | None:
    """The target, query and headers (names lower-cased) of a well-formed WebSocket handshake opening a Socket.IO
    socket; None for anything else, which aiohttp then serves (or refuses) as it would any request."""
    try:
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        return None
    if method != "GET" or version != "HTTP/1.1":
        return None
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name or "\t" in name:
            return None
        name, value = name.lower(), value.strip(" \t")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query = _parse_query(target.partition("?")[2])
    if (
        target.partition("?")[0] != "/socket.io/"
        or query.get("transport") != ["websocket"]
        or "sid" in query
        or "content-length" in headers
        or "transfer-encoding" in headers
        or "host" not in headers
        or headers.get("upgrade", "").lower() != "websocket"
        or "upgrade" not in (token.strip().lower() for token in headers.get("connection", "").split(","))
        or headers.get("sec-websocket-version") != "13"
        or not _is_websocket_key(headers.get("sec-websocket-key", ""))
    ):
        return None
    return target, query, headers


def _is_websocket_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False
