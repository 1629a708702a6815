"""What the booking templates are rendered from: the booking, its property, and the link to it in the app."""

from typing import Any

from documents.booking import Booking
from documents.property import Property
from gateway.services import Services


def booking_reference(booking_id: str) -> str:
    """The short code guests quote to hosts and support: the id's last eight characters."""
    return booking_id[-8:].upper()


async def booking_context(services: Services, booking: Booking) -> dict[str, Any]:
    listing = await Property.get(booking.property_id)
    booking_id = str(booking.id)
    return {
        "property_title": listing.title if listing else "",
        "town": listing.address.town if listing else "",
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "nights": booking.price.nights,
        "guests": booking.guests,
        "total_minor": booking.price.total_minor,
        "currency": booking.price.currency,
        "refund_due_minor": booking.refund_due_minor or 0,
        "booking_ref": booking_reference(booking_id),
        "booking_url": f"{services.settings.notifications.public_app_url}/bookings/{booking_id}",
    }
