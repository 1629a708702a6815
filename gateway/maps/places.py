"""What the app may ask of maps: its questions as validated queries, each answered through the caching proxy."""

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from gateway.maps.proxy import answer, normalized_point, normalized_text
from gateway.maps.views import PlaceAnswer, Places, Routes, Suggestions
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services
from providers.maps import DEFAULT_COUNTRY, LatLng, LocationBias, TravelMode

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Country = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
# Google's session tokens are opaque; a UUID is the usual choice.
SessionToken = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
# A waypoint is "lat,lng" or "place_id:<id>".
WAYPOINT_PATTERN = r"^(-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?|place_id:[A-Za-z0-9_-]{10,300})$"


class AutocompleteQuery(RequestModel):
    input: Annotated[str, Field(min_length=1, max_length=200)]
    session_token: SessionToken
    country: Country = DEFAULT_COUNTRY
    near_lat: Latitude | None = None
    near_lng: Longitude | None = None
    radius_m: Annotated[int, Field(ge=1, le=50_000)] = 20_000

    @model_validator(mode="after")
    def _both_or_neither(self) -> "AutocompleteQuery":
        if (self.near_lat is None) != (self.near_lng is None):
            raise ValueError("near_lat and near_lng go together")
        return self

    @property
    def bias(self) -> LocationBias | None:
        if self.near_lat is None or self.near_lng is None:
            return None
        return LocationBias(center=LatLng(lat=self.near_lat, lng=self.near_lng), radius_m=self.radius_m)


class PlaceQuery(RequestModel):
    session_token: SessionToken | None = None


class GeocodeQuery(RequestModel):
    address: Annotated[str, Field(min_length=2, max_length=300)]
    country: Country = DEFAULT_COUNTRY


class ReverseGeocodeQuery(RequestModel):
    lat: Latitude
    lng: Longitude


class DirectionsQuery(RequestModel):
    origin: Annotated[str, Field(pattern=WAYPOINT_PATTERN)]
    destination: Annotated[str, Field(pattern=WAYPOINT_PATTERN)]
    mode: TravelMode = TravelMode.DRIVING

    @field_validator("origin", "destination")
    @classmethod
    def _on_earth(cls, text: str) -> str:
        # The pattern admits -99,-999: the range is checked here so it is a 422, not a failure deeper in.
        if not text.startswith("place_id:"):
            lat, lng = (float(part) for part in text.split(","))
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ValueError("a waypoint's latitude must lie within ±90 and its longitude within ±180")
        return text


def _waypoint(text: str) -> LatLng | str:
    if text.startswith("place_id:"):
        return text
    lat, lng = (float(part) for part in text.split(","))
    return LatLng(lat=lat, lng=lng)


def _waypoint_key(point: LatLng | str) -> str:
    return normalized_point(point) if isinstance(point, LatLng) else point


async def autocomplete(services: Services, caller: Caller, query: AutocompleteQuery) -> Suggestions:
    bias = query.bias
    params = {
        "input": normalized_text(query.input),
        "country": query.country,
        "near": normalized_point(bias.center) if bias else None,
        "radius_m": bias.radius_m if bias else None,
    }
    return await answer(
        services,
        caller,
        "autocomplete",
        params,
        Suggestions,
        lambda: services.maps.autocomplete(query.input, query.session_token, bias=bias, country=query.country),
    )


async def place_details(services: Services, caller: Caller, place_id: str, query: PlaceQuery) -> PlaceAnswer:
    return await answer(
        services,
        caller,
        "place",
        {"place_id": place_id},
        PlaceAnswer,
        lambda: services.maps.place_details(place_id, query.session_token),
    )


async def geocode(services: Services, caller: Caller, query: GeocodeQuery) -> Places:
    params = {"address": normalized_text(query.address), "country": query.country}
    return await answer(
        services, caller, "geocode", params, Places, lambda: services.maps.geocode(query.address, country=query.country)
    )


async def reverse_geocode(services: Services, caller: Caller, query: ReverseGeocodeQuery) -> Places:
    point = LatLng(lat=query.lat, lng=query.lng)
    params = {"at": normalized_point(point)}
    return await answer(services, caller, "reverse-geocode", params, Places, lambda: services.maps.reverse_geocode(point))


async def directions(services: Services, caller: Caller, query: DirectionsQuery) -> Routes:
    origin, destination = _waypoint(query.origin), _waypoint(query.destination)
    params = {"from": _waypoint_key(origin), "to": _waypoint_key(destination), "mode": query.mode.value}
    return await answer(
        services, caller, "directions", params, Routes, lambda: services.maps.directions(origin, destination, query.mode)
    )
