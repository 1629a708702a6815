"""What a booking looks like to its guest, its agent and admins: in answers and in `booking.updated` events."""

from datetime import date, datetime

from pydantic import BaseModel

from documents.booking import Booking, BookingStatus, CancelledBy, PriceBreakdown
from documents.property import CancellationPolicy


class BookingView(BaseModel):
    id: str
    property_id: str
    guest_id: str
    agent_id: str
    check_in: date
    check_out: date
    guests: int
    status: BookingStatus
    hold_expires_at: datetime
    price: PriceBreakdown
    cancellation_policy: CancellationPolicy
    payment_id: str | None
    cancelled_by: CancelledBy | None
    refund_due_minor: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, booking: Booking) -> "BookingView":
        fields = booking.model_dump(exclude={"id", "property_id", "idempotency_key", "request_hash"})
        return cls(id=str(booking.id), property_id=str(booking.property_id), **fields)


class BookingPage(BaseModel):
    items: list[BookingView]
    next_cursor: str | None
