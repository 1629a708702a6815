"""A property listing owned by an agent: what is offered, where, at what price, and under which cancellation policy."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from beanie import Document
from beanie.odm.utils.encoder import Encoder
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pymongo import ASCENDING, DESCENDING, GEOSPHERE, IndexModel

from documents.clock import stored_now
from documents.search_grid import LEVEL_SIDES_DEG, cells_of, level_key
from documents.state import AdvancesState, StateConflict
from documents.stay_rules import StayRules

FILE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class PropertyStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class PropertyType(StrEnum):
    APARTMENT = "apartment"
    HOUSE = "house"
    ROOM = "room"
    VILLA = "villa"
    COTTAGE = "cottage"
    VENUE = "venue"


class ListingStateConflict(StateConflict):
    """The listing was not in a state that allows this change."""

    noun = "listing"


class GeoPoint(BaseModel):
    """A GeoJSON point: coordinates are [longitude, latitude]."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]

    @field_validator("coordinates")
    @classmethod
    def _on_earth(cls, value: tuple[float, float]) -> tuple[float, float]:
        longitude, latitude = value
        if not -180 <= longitude <= 180 or not -90 <= latitude <= 90:
            raise ValueError("coordinates are [longitude -180..180, latitude -90..90]")
        return value


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    county: str = Field(min_length=1, max_length=60)
    town: str = Field(min_length=1, max_length=80)
    street: str | None = Field(None, max_length=200)


class CancellationPolicy(BaseModel):
    """Full refund up to `full_refund_days` before check-in, `partial_refund_percent` up to
    `partial_refund_days` before, nothing after. Amounts round down to the minor unit."""

    model_config = ConfigDict(extra="forbid")

    full_refund_days: int = Field(7, ge=0, le=365)
    partial_refund_days: int = Field(2, ge=0, le=365)
    partial_refund_percent: int = Field(50, ge=0, le=100)

    @model_validator(mode="after")
    def _partial_window_follows_full(self) -> "CancellationPolicy":
        if self.partial_refund_days > self.full_refund_days:
            raise ValueError("partial_refund_days must not exceed full_refund_days")
        return self

    def refund_minor(self, paid_minor: int, check_in: date, cancelled_on: date) -> int:
        days_before = (check_in - cancelled_on).days
        if days_before >= self.full_refund_days:
            return paid_minor
        if days_before >= self.partial_refund_days:
            return paid_minor * self.partial_refund_percent // 100
        return 0


class Property(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = ListingStateConflict

    agent_id: str
    title: str
    description_html: str
    type: PropertyType
    bedrooms: int
    bathrooms: int
    max_guests: int
    amenities: list[str]
    nightly_price_minor: int
    cleaning_fee_minor: int
    currency: str
    location: GeoPoint
    address: Address
    photo_ids: list[str] = []
    cover_photo_id: str | None = None
    cancellation_policy: CancellationPolicy = CancellationPolicy()
    # Seasons, weekend prices, long-stay discounts and stay limits beyond the standard nightly price.
    stay_rules: StayRules = StayRules()
    status: PropertyStatus = PropertyStatus.DRAFT
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)
    # What "near" searches read instead of the geo index: the listing's cell at every level of the search grid.
    search_cells: dict[str, int] = {}
    # The nights taken by holds, bookings and blocks (as midnight UTC), written in the same transaction as their
    # night claims, so a search tests availability on the listing itself instead of against every claimed id.
    claimed_nights: list[datetime] = []
    # Guests' revealed reviews of stays here, kept by documents.ratings; what search filters and sorts on.
    rating_count: int = 0
    rating_sum: int = 0
    rating_average: float = 0.0
    rating_category_sums: dict[str, int] = {}
    # How many iCal feeds the listing imports, changed in the transaction that adds or removes one: the cap's count.
    calendar_imports: int = 0

    class Settings:
        name = "properties"
        indexes = [
            # The version is explicit so re-running migrate compares equal to the stored index spec.
            IndexModel([("location", GEOSPHERE)], name="location_2dsphere", **{"2dsphereIndexVersion": 3}),
            IndexModel([("status", ASCENDING), ("nightly_price_minor", ASCENDING), ("_id", ASCENDING)], name="search_by_price"),
            IndexModel([("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name="search_newest"),
            IndexModel([("status", ASCENDING), ("address.county", ASCENDING), ("address.town", ASCENDING)], name="search_by_place"),
            IndexModel([("status", ASCENDING), ("type", ASCENDING), ("bedrooms", ASCENDING)], name="search_by_type"),
            IndexModel([("agent_id", ASCENDING), ("_id", DESCENDING)], name="by_agent"),
            # No _id after the average: SecantusDB's scan of a compound index drops the keys equal to a range's
            # inclusive end when a further field follows, and min_rating is such a range.
            IndexModel([("status", ASCENDING), ("rating_average", DESCENDING)], name="search_by_rating"),
            *(
                IndexModel([(f"search_cells.{level_key(level)}", ASCENDING), ("status", ASCENDING)], name=f"search_by_cell_{level}")
                for level in range(len(LEVEL_SIDES_DEG))
            ),
        ]

    @model_validator(mode="after")
    def _cells_follow_location(self) -> "Property":
        self.search_cells = cells_of(*self.location.coordinates)
        return self

    async def apply_changes(self, changes: dict[str, Any]) -> "Property":
        """Set fields on a listing that is not archived, in one conditional update; a new location moves its cells."""
        if "location" in changes:
            changes = {**changes, "search_cells": cells_of(*changes["location"]["coordinates"])}
        # As an insert stores them: a season's dates become midnight-UTC datetimes, which BSON can hold.
        return await self._advance(None, {"status": {"$ne": PropertyStatus.ARCHIVED.value}}, Encoder().encode(changes))

    async def move_to(self, status: PropertyStatus, allowed_from: tuple[PropertyStatus, ...]) -> "Property":
        return await self._advance(status, {"status": {"$in": [state.value for state in allowed_from]}})
