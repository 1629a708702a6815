"""The maps contract: place search, geocoding and routes, answered in small normalized models with the raw reply."""

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_COUNTRY = "ke"


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


class LatLng(_Answer):
    """A WGS84 point."""

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class LocationBias(_Answer):
    """Prefer results within `radius_m` of `center` without excluding others."""

    center: LatLng
    radius_m: int = Field(20_000, ge=1, le=50_000)


class TravelMode(StrEnum):
    DRIVING = "driving"
    WALKING = "walking"
    BICYCLING = "bicycling"
    TRANSIT = "transit"


class PlaceSuggestion(_Answer):
    """One autocomplete prediction, shown to the user as `main_text` over `secondary_text`."""

    place_id: str
    description: str
    main_text: str
    secondary_text: str | None = None
    types: list[str] = []


class Autocomplete(_Answer):
    suggestions: list[PlaceSuggestion]
    raw: dict[str, Any]


class Place(_Answer):
    """A resolved place or address with its position."""

    place_id: str
    formatted_address: str
    location: LatLng
    name: str | None = None
    country_code: str | None = None
    types: list[str] = []


class PlaceDetails(_Answer):
    place: Place
    raw: dict[str, Any]


class Geocoding(_Answer):
    """Candidate places for an address or a point, best first; empty when nothing matched."""

    places: list[Place]
    raw: dict[str, Any]


class Route(_Answer):
    summary: str
    distance_m: int
    duration_s: int
    polyline: str = Field(description="Google's encoded polyline of the whole route")
    start_address: str | None = None
    end_address: str | None = None


class Directions(_Answer):
    """Routes between two points, best first; empty when none exists."""

    routes: list[Route]
    raw: dict[str, Any]


class MapsProvider(ABC):
    """Place search and routing for listings: the server calls the vendor so its key never reaches a phone."""

    name: str

    @property
    @abstractmethod
    def configured(self) -> bool:
        """False when the deployment has no credentials: callers answer 503 instead of calling."""

    @abstractmethod
    async def autocomplete(
        self,
        text: str,
        session_token: str,
        *,
        bias: LocationBias | None = None,
        country: str = DEFAULT_COUNTRY,
    ) -> Autocomplete:
        """Predictions for what the user is typing; one session token groups keystrokes and the final details."""

    @abstractmethod
    async def place_details(self, place_id: str, session_token: str | None = None) -> PlaceDetails:
        """Resolve a chosen prediction; passing its session token closes the billing session."""

    @abstractmethod
    async def geocode(self, address: str, *, country: str = DEFAULT_COUNTRY) -> Geocoding:
        """Places matching a free-text address."""

    @abstractmethod
    async def reverse_geocode(self, point: LatLng) -> Geocoding:
        """Addresses at a point, most precise first."""

    @abstractmethod
    async def directions(
        self, origin: LatLng | str, destination: LatLng | str, mode: TravelMode = TravelMode.DRIVING
    ) -> Directions:
        """Routes between two points or place ids (given as `place_id:<id>`)."""
