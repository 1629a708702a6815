"""The Socket.IO server mounted on the aiohttp application at /socket.io."""

import orjson
import socketio

from gateway.jsoncodec import dumps
from gateway.settings import Settings


class _OrjsonCodec:
    """Socket.IO packets encoded with orjson: one fast encoder for HTTP and sockets."""

    @staticmethod
    def dumps(value: object, **_: object) -> str:
        return dumps(value).decode()

    @staticmethod
    def loads(raw: str | bytes, **_: object) -> object:
        return orjson.loads(raw)


def create_socketio_server(settings: Settings) -> socketio.AsyncServer:
    return socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins=settings.server.cors_origins or [],
        json=_OrjsonCodec,
        logger=False,
        engineio_logger=False,
        http_compression=False,
    )
