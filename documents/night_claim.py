"""One claim per property-night: the unique index that makes double booking impossible."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from documents.clock import stored_now


class ClaimKind(StrEnum):
    BOOKING = "booking"
    BLOCK = "block"
    # Taken by an event of an imported iCal feed (Airbnb, Booking.com): freed when the feed no longer has it.
    IMPORTED = "imported"


class NightClaim(Document):
    """The night starting on `night` at `property_id` is taken, by a booking (held or confirmed), an agent's block or
    an imported feed's event."""

    property_id: PydanticObjectId
    night: date
    kind: ClaimKind
    booking_id: PydanticObjectId | None = None
    import_id: PydanticObjectId | None = None
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "night_claims"
        indexes = [
            IndexModel([("property_id", ASCENDING), ("night", ASCENDING)], unique=True, name="one_claim_per_night"),
            # Search asks which properties have a claim in a date range. `kind` is part of the key because Beanie
            # tells indexes apart by their set of fields: (night, property_id) would replace the unique index.
            IndexModel([("night", ASCENDING), ("property_id", ASCENDING), ("kind", ASCENDING)], name="claims_by_night"),
            IndexModel([("booking_id", ASCENDING)], name="claims_by_booking"),
            IndexModel([("import_id", ASCENDING), ("night", ASCENDING)], name="claims_by_import"),
        ]


def nights_of_stay(check_in: date, check_out: date) -> list[date]:
    """The nights of a half-open stay [check_in, check_out): the check-out day stays free."""
    return [check_in + timedelta(days=offset) for offset in range((check_out - check_in).days)]


def stored_date(day: date) -> datetime:
    """How a `date` field is stored (midnight UTC), for filters written against the raw collection."""
    return datetime.combine(day, time.min, tzinfo=UTC)
