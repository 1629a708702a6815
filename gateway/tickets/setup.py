"""The tickets flows' place in the application: their per-process runtime, set up after the realtime hub."""

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.state import EVENT_BUS, SETTINGS, TICKETS
from gateway.tickets.runtime import ScanContexts, StatsPublisher, TicketsRuntime
from gateway.tickets.stats import read_stats


async def tickets_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: door statistics are published through the event bus, so it comes after the hub."""
    settings = app[SETTINGS].tickets
    publisher = StatsPublisher(app[EVENT_BUS], settings.stats_push_interval_s, lambda event_id: read_stats(app, event_id))
    runtime = TicketsRuntime(ScanContexts(settings.scan_context_ttl_s), publisher)
    app[TICKETS] = runtime
    yield
    await runtime.stats.close()
