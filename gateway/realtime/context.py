"""The realtime hub on shutdown: every socket is told to reconnect elsewhere, and its transport closed."""

import asyncio

from aiohttp import web

from gateway.logs import get_logger
from gateway.state import SERVICES, SOCKETIO

log = get_logger("lango.realtime")
DRAINING_EVENT = "server.draining"


async def drain_sockets(app: web.Application) -> None:
    """On shutdown, close every socket's transport: clients reconnect at once, through the balancer, elsewhere."""
    services = app.get(SERVICES)
    hub = services.hub if services is not None else None
    if hub is None:
        return
    sio = app[SOCKETIO]
    sockets = list(hub.delivery.sockets.values())
    log.info("draining sockets", sockets=len(sockets))
    await sio.emit(DRAINING_EVENT, {"reconnect": True})
    # Closed together, not one after another: thousands of sockets must go within the shutdown timeout.
    await asyncio.gather(*(sio.eio.disconnect(socket.eio_sid) for socket in sockets), return_exceptions=True)
