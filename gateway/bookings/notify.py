"""The one place booking changes are published: `booking.updated` to the guest and to the property's agent."""


from documents.booking import Booking
from gateway.bookings.views import BookingView
from gateway.logs import get_logger
from gateway.messaging.bus import BusUnavailable, Outgoing
from gateway.messaging.catalogue import BOOKING_UPDATED
from gateway.messaging.targets import user_room
from gateway.services import Services

log = get_logger("lango.bookings")


async def publish_booking_updated(services: Services, booking: Booking) -> None:
    """Called after the change is committed; the change stands even when Redis cannot take the event,
    and clients that missed it see the booking's state on their next fetch."""
    data = BookingView.of(booking).model_dump(mode="json")
    users = dict.fromkeys((booking.guest_id, booking.agent_id))
    try:
        await services.bus.publish_many([Outgoing(user_room(user_id), BOOKING_UPDATED, data) for user_id in users])
    except BusUnavailable as error:
        log.warning("booking.updated not published", booking_id=str(booking.id), error=str(error))
