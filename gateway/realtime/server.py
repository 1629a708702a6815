"""The Socket.IO server mounted on the aiohttp application at /socket.io."""

import functools

import orjson
import socketio
from aiohttp import hdrs, web

from gateway.jsoncodec import dumps
from gateway.realtime.direct_socket import send_directly_on_websocket
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
    server = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins=settings.server.cors_origins or [],
        json=_OrjsonCodec,
        logger=False,
        engineio_logger=False,
        http_compression=False,
        ping_interval=settings.realtime.ping_interval_s,
        ping_timeout=settings.realtime.ping_timeout_s,
    )
    if settings.realtime.direct_websocket_writes:
        send_directly_on_websocket(server.eio)
    return server


def mount_socketio(app: web.Application, sio: socketio.AsyncServer, settings: Settings) -> None:
    """Route /socket.io to the server; unless configured, WebSocket compression offers are declined."""
    handler = sio.handle_request
    if not settings.realtime.websocket_compression:
        handler = functools.partial(_declining_compression, sio)
    for method in (hdrs.METH_GET, hdrs.METH_POST, hdrs.METH_OPTIONS):
        app.router.add_route(method, SOCKETIO_PATH, handler)


async def _declining_compression(sio: socketio.AsyncServer, request: web.Request) -> web.StreamResponse:
    # aiohttp's WebSocketResponse accepts permessage-deflate whenever the client offers it, which keeps
    # a zlib context of ~90 KB per socket; without the offer in the request the handshake declines it.
    if hdrs.SEC_WEBSOCKET_EXTENSIONS in request.headers:
        headers = request.headers.copy()
        del headers[hdrs.SEC_WEBSOCKET_EXTENSIONS]
        request = request.clone(headers=headers)
    response: web.StreamResponse = await sio.handle_request(request)
    return response
