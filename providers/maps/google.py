"""Google Maps Platform through its JSON web services: Place Autocomplete and Details, Geocoding, Directions."""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import Field, SecretStr

from providers.errors import ProviderError, ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.maps.base import (
    DEFAULT_COUNTRY,
    Autocomplete,
    Directions,
    Geocoding,
    LatLng,
    LocationBias,
    MapsProvider,
    Place,
    PlaceDetails,
    PlaceSuggestion,
    Route,
    TravelMode,
)
from providers.settings import VendorSettings
from providers.vendor_http import call_vendor, json_body

VENDOR = "google_maps"
DETAILS_FIELDS = "place_id,name,formatted_address,geometry/location,address_components,types"
_ANSWERED = frozenset({"OK", "ZERO_RESULTS"})
# Google answers HTTP 200 for nearly everything; the `status` field says what happened.
_STATUS_ERRORS: Mapping[str, type[ProviderError]] = {
    "OVER_QUERY_LIMIT": VendorUnavailable,
    "UNKNOWN_ERROR": VendorUnavailable,
    "REQUEST_DENIED": ProviderMisconfigured,
    "OVER_DAILY_LIMIT": ProviderMisconfigured,
    "INVALID_REQUEST": VendorRejected,
    "NOT_FOUND": VendorRejected,
    "MAX_WAYPOINTS_EXCEEDED": VendorRejected,
    "MAX_ROUTE_LENGTH_EXCEEDED": VendorRejected,
}

AnswerT = TypeVar("AnswerT")


class GoogleMapsSettings(VendorSettings):
    """The `maps.google` settings; without an API key the adapter reports itself unconfigured."""

    section: ClassVar[str] = "maps.google"

    api_key: SecretStr | None = None
    base_url: str = "https://maps.googleapis.com"
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    region: str = Field(DEFAULT_COUNTRY, pattern=r"^[a-z]{2}$")

    @property
    def configured(self) -> bool:
        return self.api_key is not None and bool(self.api_key.get_secret_value())


def _waypoint(point: LatLng | str) -> str:
    return f"{point.lat},{point.lng}" if isinstance(point, LatLng) else point


def _place(result: Mapping[str, Any]) -> Place:
    location = result["geometry"]["location"]
    country = next(
        (part["short_name"] for part in result.get("address_components", []) if "country" in part.get("types", [])),
        None,
    )
    return Place(
        place_id=result["place_id"],
        formatted_address=result.get("formatted_address", ""),
        location=LatLng(lat=location["lat"], lng=location["lng"]),
        name=result.get("name"),
        country_code=country.lower() if country else None,
        types=result.get("types", []),
    )


def _suggestion(prediction: Mapping[str, Any]) -> PlaceSuggestion:
    formatting = prediction.get("structured_formatting", {})
    return PlaceSuggestion(
        place_id=prediction["place_id"],
        description=prediction["description"],
        main_text=formatting.get("main_text", prediction["description"]),
        secondary_text=formatting.get("secondary_text"),
        types=prediction.get("types", []),
    )


def _route(route: Mapping[str, Any]) -> Route:
    legs = route["legs"]
    return Route(
        summary=route.get("summary", ""),
        distance_m=sum(leg["distance"]["value"] for leg in legs),
        duration_s=sum(leg["duration"]["value"] for leg in legs),
        polyline=route["overview_polyline"]["points"],
        start_address=legs[0].get("start_address") if legs else None,
        end_address=legs[-1].get("end_address") if legs else None,
    )


class GoogleMaps(MapsProvider):
    """Calls go out from the server with the key as Google's `key` query parameter, over the shared httpx client."""

    name = "google"

    def __init__(self, settings: GoogleMapsSettings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http
        self._base_url = settings.base_url.rstrip("/")

    @property
    def configured(self) -> bool:
        return self._settings.configured

    async def autocomplete(
        self,
        text: str,
        session_token: str,
        *,
        bias: LocationBias | None = None,
        country: str = DEFAULT_COUNTRY,
    ) -> Autocomplete:
        params = {"input": text, "sessiontoken": session_token, "components": f"country:{country}"}
        if bias is not None:
            params["locationbias"] = f"circle:{bias.radius_m}@{bias.center.lat},{bias.center.lng}"
        raw = await self._call("place/autocomplete", params)
        suggestions = _parsed(raw, lambda: [_suggestion(item) for item in raw.get("predictions", [])])
        return Autocomplete(suggestions=suggestions, raw=raw)

    async def place_details(self, place_id: str, session_token: str | None = None) -> PlaceDetails:
        params = {"place_id": place_id, "fields": DETAILS_FIELDS}
        if session_token:
            params["sessiontoken"] = session_token
        raw = await self._call("place/details", params)
        if raw["status"] == "ZERO_RESULTS":
            raise VendorRejected(f"no place {place_id!r}", vendor=VENDOR, reason="ZERO_RESULTS")
        return PlaceDetails(place=_parsed(raw, lambda: _place(raw["result"])), raw=raw)

    async def geocode(self, address: str, *, country: str = DEFAULT_COUNTRY) -> Geocoding:
        raw = await self._call("geocode", {"address": address, "components": f"country:{country.upper()}"})
        return Geocoding(places=_parsed(raw, lambda: [_place(item) for item in raw.get("results", [])]), raw=raw)

    async def reverse_geocode(self, point: LatLng) -> Geocoding:
        raw = await self._call("geocode", {"latlng": _waypoint(point)})
        return Geocoding(places=_parsed(raw, lambda: [_place(item) for item in raw.get("results", [])]), raw=raw)

    async def directions(
        self, origin: LatLng | str, destination: LatLng | str, mode: TravelMode = TravelMode.DRIVING
    ) -> Directions:
        params = {"origin": _waypoint(origin), "destination": _waypoint(destination), "mode": mode.value}
        raw = await self._call("directions", params)
        return Directions(routes=_parsed(raw, lambda: [_route(item) for item in raw.get("routes", [])]), raw=raw)

    async def _call(self, service: str, params: dict[str, str]) -> dict[str, Any]:
        api_key = self._settings.api_key.get_secret_value() if self._settings.api_key else ""
        if not api_key:
            raise ProviderMisconfigured(f"{self._settings.section}.api_key is not set", vendor=VENDOR)
        query = params | {
            "key": api_key,
            "language": self._settings.language,
            "region": self._settings.region,
        }
        url = f"{self._base_url}/maps/api/{service}/json"
        response = await call_vendor(self._http, VENDOR, "GET", url, params=query)
        raw = json_body(response, VENDOR)
        status = raw.get("status") if isinstance(raw, dict) else None
        if status in _ANSWERED:
            return raw
        error = _STATUS_ERRORS.get(str(status), VendorUnavailable)
        explanation = raw.get("error_message") if isinstance(raw, dict) else None
        message = f"Google {service} answered {status}" + (f": {explanation}" if explanation else "")
        raise error(message, vendor=VENDOR, reason=str(status))


def _parsed(raw: Mapping[str, Any], parse: Callable[[], AnswerT]) -> AnswerT:
    """Run `parse` over an answer whose status was fine; a missing field is the vendor's fault, worth a retry."""
    try:
        return parse()
    except (KeyError, TypeError, ValueError, IndexError) as malformed:
        raise VendorUnavailable(
            f"Google answered {raw.get('status')} in an unexpected shape", vendor=VENDOR, reason=repr(malformed)
        ) from malformed
