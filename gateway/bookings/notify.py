"""The one place booking changes are published: `booking.updated` to the guest and to the property's agent."""

from aiohttp import web

from documents.booking import Booking
from gateway.bookings.views import BookingView
from gateway.events.bus import EventBusUnavailable, Outgoing
from gateway.events.catalogue import BOOKING_UPDATED
from gateway.events.targets import user_room
from gateway.logs import get_logger
from gateway.state import EVENT_BUS

log = get_logger("lango.bookings")


async def publish_booking_updated(app: web.Application, booking: Booking) -> None:
    """Called after the change is committed; the change stands even when Redis cannot take the event,
    and clients that missed it see the booking's state on their next fetch."""
    data = BookingView.of(booking).model_dump(mode="json")
    users = dict.fromkeys((booking.guest_id, booking.agent_id))
    try:
        await app[EVENT_BUS].publish_many([Outgoing(user_room(user_id), BOOKING_UPDATED, data) for user_id in users])
    except EventBusUnavailable as error:
        log.warning("booking.updated not published", booking_id=str(booking.id), error=str(error))
