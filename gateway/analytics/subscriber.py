"""Product events derived from the message bus, so flows that publish need not also track."""

from typing import Any

from gateway.analytics.tracking import ProductEvent, track
from gateway.messaging.bus import Published
from gateway.messaging.catalogue import BOOKING_UPDATED, PAYMENT_UPDATED
from gateway.messaging.targets import user_of, user_room
from gateway.services import Services

_BOOKING_EVENTS = {
    "held": ProductEvent.BOOKING_CREATED,
    "confirmed": ProductEvent.BOOKING_CONFIRMED,
    "cancelled": ProductEvent.BOOKING_CANCELLED,
}
_PAYMENT_EVENTS = {"succeeded": ProductEvent.PAYMENT_SUCCEEDED, "failed": ProductEvent.PAYMENT_FAILED}


async def track_published(services: Services, published: Published) -> None:
    """Track the product event a bus event stands for, once: booking events reach the guest and the agent."""
    if published.type == BOOKING_UPDATED:
        await _track_booking(services, published)
    elif published.type == PAYMENT_UPDATED:
        await _track_payment(services, published)


async def _track_payment(services: Services, published: Published) -> None:
    payment: dict[str, Any] = published.data
    event = _PAYMENT_EVENTS.get(payment.get("status", ""))
    payer_id = user_of(published.target)
    if event is None or payer_id is None:
        return
    properties = {
        "payment_id": payment.get("id"),
        "booking_id": payment.get("booking_id"),
        "provider": payment.get("provider"),
        "amount_minor": payment.get("amount_minor"),
        "currency": payment.get("currency"),
    }
    await track(services, event, payer_id, properties, occurrence=payment.get("id"))


async def _track_booking(services: Services, published: Published) -> None:
    booking: dict[str, Any] = published.data
    event = _BOOKING_EVENTS.get(booking.get("status", ""))
    guest_id = booking.get("guest_id")
    if event is None or not guest_id or published.target != user_room(guest_id):
        return
    price = booking.get("price") or {}
    properties = {
        "booking_id": booking.get("id"),
        "property_id": booking.get("property_id"),
        "nights": price.get("nights"),
        "amount_minor": price.get("total_minor"),
        "currency": price.get("currency"),
    }
    if event is ProductEvent.BOOKING_CANCELLED:
        properties["cancelled_by"] = booking.get("cancelled_by")
    await track(services, event, guest_id, properties, occurrence=booking.get("id"))
