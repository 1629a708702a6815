"""A guest's booking of a property: its frozen price, and the forward-only states it moves through."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now
from documents.night_claim import stored_date
from documents.property import CancellationPolicy
from documents.state import AdvancesState, StateConflict

CancelledBy = Literal["guest", "agent", "admin"]


class BookingStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"


class BookingStateConflict(StateConflict):
    """The booking was not in a state that allows this change."""

    noun = "booking"


class NightPrice(BaseModel):
    """One night of a stay and the rate it was priced at."""

    night: date
    price_minor: int
    rate: Literal["standard", "weekend", "season", "season_weekend"]
    season: str | None = None


class PriceBreakdown(BaseModel):
    """Integer minor units, computed once when the dates are held and never again."""

    nights: int
    # The listing's standard rate; `night_prices` says what each night cost.
    nightly_price_minor: int
    nights_total_minor: int
    cleaning_fee_minor: int
    total_minor: int
    currency: str
    # What the guest pays (total_minor) splits into the platform's commission and what the listing's agent earns.
    platform_fee_minor: int = 0
    host_earnings_minor: int = 0
    night_prices: list[NightPrice] = []
    # Off nights_total_minor: total_minor = nights_total_minor - discount_minor + cleaning_fee_minor.
    discount: Literal["weekly", "monthly"] | None = None
    discount_percent: int = 0
    discount_minor: int = 0

    @model_validator(mode="before")
    @classmethod
    def _earnings_of_older_bookings(cls, data: Any) -> Any:
        # A booking priced before the commission existed: its agent earns all of it.
        if isinstance(data, dict) and "host_earnings_minor" not in data and "total_minor" in data:
            return {**data, "host_earnings_minor": data["total_minor"] - data.get("platform_fee_minor", 0)}
        return data


class Booking(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = BookingStateConflict

    property_id: PydanticObjectId
    guest_id: str
    agent_id: str
    check_in: date
    check_out: date
    guests: int
    status: BookingStatus = BookingStatus.HELD
    hold_expires_at: datetime
    price: PriceBreakdown
    cancellation_policy: CancellationPolicy
    payment_id: str | None = None
    cancelled_by: CancelledBy | None = None
    refund_due_minor: int | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "bookings"
        indexes = [
            IndexModel(
                [("guest_id", ASCENDING), ("idempotency_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
                name="one_booking_per_idempotency_key",
            ),
            IndexModel([("guest_id", ASCENDING), ("_id", DESCENDING)], name="by_guest"),
            IndexModel([("agent_id", ASCENDING), ("_id", DESCENDING)], name="by_agent"),
            IndexModel([("status", ASCENDING), ("hold_expires_at", ASCENDING)], name="lapsing_holds"),
            IndexModel([("status", ASCENDING), ("check_out", ASCENDING)], name="finished_stays"),
        ]

    async def confirm(self, payment_id: str, session: AsyncClientSession | None = None) -> "Booking":
        """held -> confirmed once its payment succeeded; a lapsed hold whose nights are still claimed may confirm."""
        return await self._advance(BookingStatus.CONFIRMED, {"status": BookingStatus.HELD}, {"payment_id": payment_id}, session=session)

    async def cancel(self, by: CancelledBy, refund_due_minor: int, session: AsyncClientSession | None = None) -> "Booking":
        """held or confirmed -> cancelled; filters on the state the refund was computed from, so a payment
        landing in between makes this fail rather than cancel a paid booking with a held booking's refund."""
        if self.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            raise BookingStateConflict(self.id, BookingStatus.CANCELLED, self.status)
        return await self._advance(
            BookingStatus.CANCELLED,
            {"status": self.status.value},
            {"cancelled_by": by, "refund_due_minor": refund_due_minor},
            session=session,
        )

    async def expire(self, now: datetime, session: AsyncClientSession | None = None) -> "Booking":
        return await self._advance(
            BookingStatus.EXPIRED, {"status": BookingStatus.HELD, "hold_expires_at": {"$lte": now}}, session=session
        )

    async def complete(self, today: date, session: AsyncClientSession | None = None) -> "Booking":
        return await self._advance(
            BookingStatus.COMPLETED,
            {"status": BookingStatus.CONFIRMED, "check_out": {"$lte": stored_date(today)}},
            session=session,
        )
