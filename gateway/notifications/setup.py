"""The notification layer's place in the application: listening to the domain events it turns into notices."""

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.notifications.booking_notices import install_booking_notices
from gateway.state import EVENT_BUS


async def notifications_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context after the realtime hub, whose context creates the event bus."""
    install_booking_notices(app, app[EVENT_BUS])
    yield
