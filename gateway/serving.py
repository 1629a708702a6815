"""Serving the gateway's application: aiohttp's runner with the realtime front door before it, until a signal."""

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from gateway.client_address import trusted_networks
from gateway.realtime.front_door import Entrance, FrontDoor
from gateway.state import SERVICES, SOCKETIO


class FrontDoorServer:
    """aiohttp's protocol factory with the front door before it: each connection starts as a `FrontDoor`, which
    hands aiohttp every request that is not a Socket.IO WebSocket handshake. The rest is aiohttp's server."""

    def __init__(self, http: web.Server, entrance: Entrance) -> None:
        self._http = http
        self._entrance = entrance

    def __call__(self) -> FrontDoor:
        return FrontDoor(self._entrance)

    async def shutdown(self, timeout: float | None = None) -> None:
        self._entrance.close()
        await self._http.shutdown(timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)


class GatewayRunner(web.AppRunner):
    """aiohttp's application runner, serving sockets through the front door when the realtime settings allow it
    (WebSocket transport on, frames uncompressed, written directly)."""

    async def _make_server(self) -> web.Server:
        http = await super()._make_server()
        sio = self.app.get(SOCKETIO)
        if sio is None:
            return http
        settings = self.app[SERVICES].settings
        realtime = settings.realtime
        if not realtime.direct_websocket_writes or realtime.websocket_compression or "websocket" not in realtime.transports:
            return http
        entrance = Entrance(
            sio,
            http,
            trusted_proxies=trusted_networks(settings.server.trusted_proxies),
            max_message_bytes=realtime.max_message_bytes,
            max_unsent_bytes=realtime.max_unsent_bytes,
            handshake_timeout_s=realtime.handshake_timeout_s,
        )
        return FrontDoorServer(http, entrance)  # type: ignore[return-value]


def run_gateway(app: web.Application, *, host: str, port: int, backlog: int, reuse_port: bool, shutdown_timeout: float) -> None:
    """Serve `app` until SIGINT or SIGTERM, then shut it down gracefully (as aiohttp's run_app does)."""
    with contextlib.suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(_serve(app, host, port, backlog, reuse_port, shutdown_timeout))


async def _serve(app: web.Application, host: str, port: int, backlog: int, reuse_port: bool, shutdown_timeout: float) -> None:
    runner = GatewayRunner(app, handle_signals=True, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, backlog=backlog, reuse_port=reuse_port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
