"""An event a host sells tickets for: its venue, times, capacity, door staff, signing keys, and its states."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now
from documents.property import Address, GeoPoint
from documents.state import AdvancesState, StateConflict


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class EventStateConflict(StateConflict):
    """The event was not in a state that allows this change."""

    noun = "event"


class Venue(BaseModel):
    """A listed property, or a named place with its address and GeoJSON point."""

    model_config = ConfigDict(extra="forbid")

    property_id: PydanticObjectId | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    address: Address | None = None
    location: GeoPoint | None = None

    @model_validator(mode="after")
    def _property_or_place(self) -> "Venue":
        place = (self.name, self.address, self.location)
        if self.property_id is not None and any(part is not None for part in place):
            raise ValueError("give either property_id or name, address and location, not both")
        if self.property_id is None and any(part is None for part in place):
            raise ValueError("a venue without property_id needs name, address and location")
        return self


class EventKey(BaseModel):
    """One Ed25519 key pair of the event; the private half is sealed (AES-GCM) and never served."""

    kid: int
    public_key: str
    sealed_private_key: str
    created_at: datetime = Field(default_factory=stored_now)


class Cancellation(BaseModel):
    """How far the cancellation job got: every order up to `after_order_id` is refunded or closed."""

    at: datetime
    after_order_id: PydanticObjectId | None = None
    progressed_at: datetime
    settled_at: datetime | None = None


class HostedEvent(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = EventStateConflict

    host_id: str
    title: str
    description: str = ""
    venue: Venue
    starts_at: datetime
    ends_at: datetime
    capacity: int
    # Seats held or sold across all ticket types; a conditional $inc keeps it within capacity.
    sold: int = 0
    # Seats paid for: bumped in the transaction that pays an order, so a payment and a cancel serialise here.
    paid_seats: int = 0
    status: EventStatus = EventStatus.DRAFT
    reentry_allowed: bool = False
    scanner_ids: list[str] = Field(default_factory=list)
    keys: list[EventKey] = Field(default_factory=list)
    cancellation: Cancellation | None = None
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "events"
        indexes = [
            IndexModel([("host_id", ASCENDING), ("_id", DESCENDING)], name="by_host"),
            IndexModel([("status", ASCENDING), ("starts_at", ASCENDING)], name="upcoming"),
            IndexModel([("scanner_ids", ASCENDING)], name="by_scanner"),
        ]

    @property
    def signing_key(self) -> EventKey:
        return self.keys[-1]

    @classmethod
    async def reserve_seats(cls, event_id: PydanticObjectId, seats: int) -> bool:
        """Take `seats` of the capacity in one conditional update; False when they do not fit."""
        taken = await cls.get_pymongo_collection().update_one(
            {
                "_id": event_id,
                "status": EventStatus.PUBLISHED.value,
                "$expr": {"$lte": [{"$add": ["$sold", seats]}, "$capacity"]},
            },
            {"$inc": {"sold": seats}},
        )
        return taken.modified_count == 1

    @classmethod
    async def release_seats(cls, event_id: PydanticObjectId, seats: int) -> None:
        await cls.get_pymongo_collection().update_one({"_id": event_id}, {"$inc": {"sold": -seats}})

    @classmethod
    async def record_sale(cls, event_id: PydanticObjectId, seats: int, session: AsyncClientSession) -> bool:
        """Count `seats` as paid, only while the event is on sale; False once it is cancelled. Written inside the
        payment's transaction: a cancel writing this document at the same time makes one of the two wait or retry,
        so an order is either paid before the cancel (and refunded by it) or not paid at all."""
        counted = await cls.get_pymongo_collection().update_one(
            {"_id": event_id, "status": EventStatus.PUBLISHED.value}, {"$inc": {"paid_seats": seats}}, session=session
        )
        return counted.modified_count == 1

    @classmethod
    async def advance_cancellation(cls, event_id: PydanticObjectId, after_order_id: PydanticObjectId) -> None:
        """Every order up to `after_order_id` is settled; the cursor only moves forward, whoever runs the job."""
        await cls.get_pymongo_collection().update_one(
            {"_id": event_id},
            {"$max": {"cancellation.after_order_id": after_order_id}, "$set": {"cancellation.progressed_at": stored_now()}},
        )

    @classmethod
    async def finish_cancellation(cls, event_id: PydanticObjectId) -> None:
        await cls.get_pymongo_collection().update_one(
            {"_id": event_id, "cancellation.settled_at": None}, {"$set": {"cancellation.settled_at": stored_now()}}
        )

    async def publish(self) -> "HostedEvent":
        return await self._advance(EventStatus.PUBLISHED, {"status": EventStatus.DRAFT.value})

    async def cancel(self) -> "HostedEvent":
        now = stored_now()
        cancellation = Cancellation(at=now, progressed_at=now).model_dump()
        return await self._advance(
            EventStatus.CANCELLED, {"status": {"$ne": EventStatus.CANCELLED.value}}, {"cancellation": cancellation}
        )
