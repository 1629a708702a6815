"""The Socket.IO server mounted on the aiohttp application at /socket.io."""

from typing import Any

import orjson
import socketio
from aiohttp import hdrs, web
from engineio.async_drivers import aiohttp as aiohttp_driver
from engineio.async_drivers.aiohttp import WebSocket

from gateway.jsoncodec import dumps
from gateway.middleware import Handler
from gateway.realtime.connection_guard import GuardedServer
from gateway.realtime.direct_socket import keep_ping_deadlines
from gateway.realtime.manager import IndexedClientManager
from gateway.settings import Settings

SOCKETIO_PATH = "/socket.io/"


class _OrjsonCodec:
    """Socket.IO packets encoded with orjson: one fast encoder for HTTP and sockets."""

    @staticmethod
    def dumps(value: object, **_: object) -> str:
        return dumps(value).decode()

    @staticmethod
    def loads(raw: str | bytes, **_: object) -> object:
        return orjson.loads(raw)


def create_socketio_server(settings: Settings) -> socketio.AsyncServer:
    server = GuardedServer(
        settings,
        async_mode="aiohttp",
        client_manager=IndexedClientManager(),
        # An empty list would turn engine.io's origin check off; None allows the gateway's own origin only. A
        # request without an Origin header (a native app) is not checked either way.
        cors_allowed_origins=settings.server.cors_origins or None,
        transports=settings.realtime.transports,
        max_http_buffer_size=settings.realtime.max_message_bytes,
        json=_OrjsonCodec,
        logger=False,
        engineio_logger=False,
        http_compression=False,
        ping_interval=settings.realtime.ping_interval_s,
        ping_timeout=settings.realtime.ping_timeout_s,
    )
    # The driver table is engine.io's own per-mode dict, shared by every server: replaced, not edited. It serves
    # the requests of aiohttp's route; the front door (gateway.realtime.front_door) opens its sockets itself.
    server.eio._async = {
        **server.eio._async,
        "translate_request": translate_request,
        "websocket": WebSocket if settings.realtime.websocket_compression else UncompressedWebSocket,
    }
    if settings.realtime.direct_websocket_writes:
        keep_ping_deadlines(server.eio)
    return server


def translate_request(request: web.BaseRequest) -> dict[str, Any]:
    """engine.io's environ of an aiohttp request, with the client's address behind trusted proxies (the connection
    guards read it)."""
    environ: dict[str, Any] = aiohttp_driver.translate_request(request)
    environ["REMOTE_ADDR"] = request.remote or "unknown"
    return environ


class UncompressedWebSocket(WebSocket):
    """engine.io's aiohttp WebSocket, declining per-message deflate in the handshake.

    aiohttp accepts permessage-deflate whenever the client offers it (Socket.IO clients do), and each socket
    then keeps a zlib context of about 90 KB."""

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request: web.BaseRequest = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self._sock.send_bytes(message)
        else:
            await self._sock.send_str(message)


@web.middleware
async def socket_upgrades_skip_middlewares(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hand a Socket.IO WebSocket handshake straight to its route: it needs no request id, access log, metrics,
    compression or problem page, and each middleware left in the chain would keep a suspended frame (about
    300 bytes) for as long as the socket lives."""
    if request.path == SOCKETIO_PATH and request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
        return await request.match_info.handler(request)
    return await handler(request)


def mount_socketio(app: web.Application, sio: socketio.AsyncServer) -> None:
    for method in (hdrs.METH_GET, hdrs.METH_POST, hdrs.METH_OPTIONS):
        app.router.add_route(method, SOCKETIO_PATH, sio.handle_request)
