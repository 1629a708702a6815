"""What the listing routes answer: a listing whole, its summary in search, pages of them, and its calendar."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from documents.property import Address, CancellationPolicy, GeoPoint, Property, PropertyStatus, PropertyType
from documents.stay_rules import StayRules


class TakenNight(BaseModel):
    night: date
    kind: Literal["booked", "blocked"]


class Calendar(BaseModel):
    property_id: str
    taken: list[TakenNight]


class Released(BaseModel):
    released_nights: int


class ListingView(BaseModel):
    id: str
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
    photo_ids: list[str]
    cover_photo_id: str | None
    cancellation_policy: CancellationPolicy
    stay_rules: StayRules
    status: PropertyStatus
    created_at: datetime
    updated_at: datetime
    # Guests' revealed reviews: how many, and their average overall rating (0 before the first).
    rating_count: int = 0
    rating_average: float = 0.0

    @classmethod
    def of(cls, listing: Property) -> "ListingView":
        return cls(id=str(listing.id), **listing.model_dump(exclude={"id"}))


class ListingPage(BaseModel):
    items: list[ListingView]
    next_cursor: str | None


class ListingSummary(BaseModel):
    id: str
    title: str
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
    cover_photo_id: str | None
    created_at: datetime
    distance_m: float | None = None
    stay_total_minor: int | None = None
    rating_count: int = 0
    rating_average: float = 0.0


class SearchPage(BaseModel):
    items: list[ListingSummary]
    next_cursor: str | None
