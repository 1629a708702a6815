"""The realtime hub's place in the application: started after Redis and the job queue, drained on shutdown."""

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from gateway.events.bus import EventBus
from gateway.logs import get_logger
from gateway.realtime.heap import freeze_startup_heap
from gateway.realtime.hub import RealtimeHub
from gateway.realtime.push import install_push_fallback
from gateway.state import EVENT_BUS, JOB_QUEUE, PUSH_SENDER, READINESS_CHECKS, REALTIME_HUB, REDIS, SETTINGS, SOCKETIO
from providers.outbox import OutboxConfig
from providers.push.outbox import OutboxPushSender

log = get_logger("lango.realtime")
DRAINING_EVENT = "server.draining"


async def realtime_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: the event bus, the push fallback and this node's hub."""
    settings = app[SETTINGS]
    bus = EventBus(app[REDIS], settings)
    app[EVENT_BUS] = bus
    if PUSH_SENDER not in app:
        app[PUSH_SENDER] = OutboxPushSender(OutboxConfig(namespace=settings.redis.namespace), app[REDIS])
    install_push_fallback(bus, app[JOB_QUEUE], settings.realtime.push_debounce_s)
    hub = RealtimeHub(app[SOCKETIO], app[REDIS], bus, settings)
    app[REALTIME_HUB] = hub
    await hub.start()
    app[READINESS_CHECKS]["realtime"] = hub.ready
    freeze_startup_heap(settings)
    yield
    await hub.stop()
    await bus.close()


async def drain_sockets(app: web.Application) -> None:
    """On shutdown, close every socket's transport: clients reconnect at once, through the balancer, elsewhere."""
    hub = app.get(REALTIME_HUB)
    if hub is None:
        return
    sio = app[SOCKETIO]
    sockets = list(hub.delivery.sockets.values())
    log.info("draining sockets", sockets=len(sockets))
    await sio.emit(DRAINING_EVENT, {"reconnect": True})
    # Closed together, not one after another: thousands of sockets must go within the shutdown timeout.
    await asyncio.gather(*(sio.eio.disconnect(socket.eio_sid) for socket in sockets), return_exceptions=True)
