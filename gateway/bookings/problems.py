"""The problems booking routes answer with, each with a stable type a client can act on."""

from gateway.idempotency import IdempotencyKeyReused
from gateway.problems import Conflict


class DatesUnavailable(Conflict):
    slug, title = "dates-unavailable", "Some of these nights are already held, booked or blocked"


class BookingStateProblem(Conflict):
    slug, title = "booking-state-conflict", "The booking is not in a state that allows this"


class PropertyNotBookable(Conflict):
    slug, title = "property-not-bookable", "This listing does not take bookings"


__all__ = ["BookingStateProblem", "DatesUnavailable", "IdempotencyKeyReused", "PropertyNotBookable"]
