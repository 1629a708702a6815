"""Product events derived from the domain event bus, so flows that publish need not also track."""

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gateway.analytics.tracking import ProductEvent, track
from gateway.events.bus import Published
from gateway.events.catalogue import BOOKING_UPDATED, PAYMENT_UPDATED
from gateway.events.targets import user_of, user_room
from gateway.state import EVENT_BUS

_BOOKING_EVENTS = {
    "held": ProductEvent.BOOKING_CREATED,
    "confirmed": ProductEvent.BOOKING_CONFIRMED,
    "cancelled": ProductEvent.BOOKING_CANCELLED,
}
_PAYMENT_EVENTS = {"succeeded": ProductEvent.PAYMENT_SUCCEEDED, "failed": ProductEvent.PAYMENT_FAILED}


async def track_published(app: web.Application, published: Published) -> None:
    """Track the product event a bus event stands for, once: booking events reach the guest and the agent."""
    if published.type == BOOKING_UPDATED:
        await _track_booking(app, published)
    elif published.type == PAYMENT_UPDATED:
        await _track_payment(app, published)


async def _track_payment(app: web.Application, published: Published) -> None:
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
    await track(app, event, payer_id, properties, occurrence=payment.get("id"))


async def _track_booking(app: web.Application, published: Published) -> None:
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
    await track(app, event, guest_id, properties, occurrence=booking.get("id"))


async def analytics_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context after the realtime one, which creates the bus."""

    async def subscriber(published: Published) -> None:
        await track_published(app, published)

    app[EVENT_BUS].subscribe(subscriber)
    yield
