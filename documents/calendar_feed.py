"""iCal calendar sync: a listing's secret export feed, and the feeds its host imports from other sites with their
last sync's outcome."""

from datetime import date, datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from documents.clock import stored_now


class CalendarExport(Document):
    """The secret in a listing's public feed URL; rotating it replaces it, so the old URL stops working."""

    property_id: PydanticObjectId
    secret: str
    rotated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "calendar_exports"
        indexes = [IndexModel([("property_id", ASCENDING)], unique=True, name="one_export_per_listing")]


class ImportConflict(BaseModel):
    """A night the feed marks taken that a booking here already holds: flagged to the host and admins, not dropped."""

    night: date
    booking_id: PydanticObjectId


class CalendarImport(Document):
    """A feed (Airbnb, Booking.com, any iCal URL) whose events block the listing's nights here."""

    property_id: PydanticObjectId
    agent_id: str
    url: str
    name: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt_at: datetime | None = None
    last_synced_at: datetime | None = None
    last_error: str | None = None
    # Nights the feed blocks here after the last sync, and those it could not because a booking holds them.
    blocked_nights: int = 0
    conflicts: list[ImportConflict] = []
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "calendar_imports"
        indexes = [
            IndexModel([("property_id", ASCENDING), ("url", ASCENDING)], unique=True, name="one_import_per_url"),
            IndexModel([("last_attempt_at", ASCENDING)], name="imports_due"),
            # Which feeds flagged a booking, when it lets its nights go.
            IndexModel([("conflicts.booking_id", ASCENDING)], name="imports_by_conflict"),
        ]
