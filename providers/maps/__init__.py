"""Maps: place search, geocoding and directions behind one contract, the Google adapter, and the registry."""

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

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
from providers.maps.disabled import DisabledMaps, DisabledMapsConfig
from providers.maps.google import GoogleMaps, GoogleMapsConfig
from providers.registry import AdapterResources, AdapterSpec, build_adapter

MAPS_PROVIDERS: Mapping[str, AdapterSpec[MapsProvider]] = {
    "google": AdapterSpec(GoogleMapsConfig, lambda config, res: GoogleMaps(config, res.require_http("maps.google"))),
    "none": AdapterSpec(DisabledMapsConfig, lambda _config, _res: DisabledMaps()),
}


def create_maps_provider(
    name: str, options: Mapping[str, Any] | BaseModel | None = None, *, http: httpx.AsyncClient | None = None
) -> MapsProvider:
    """The maps adapter configured as `name` (google, none); check `.configured` before serving a request."""
    return build_adapter("maps", MAPS_PROVIDERS, name, options or {}, AdapterResources(http=http))


__all__ = [
    "DEFAULT_COUNTRY",
    "MAPS_PROVIDERS",
    "Autocomplete",
    "Directions",
    "DisabledMaps",
    "DisabledMapsConfig",
    "Geocoding",
    "GoogleMaps",
    "GoogleMapsConfig",
    "LatLng",
    "LocationBias",
    "MapsProvider",
    "Place",
    "PlaceDetails",
    "PlaceSuggestion",
    "Route",
    "TravelMode",
    "create_maps_provider",
]
