"""Maps: place search, geocoding and directions behind one contract, the Google adapter, and the registry."""

from typing import Literal

import httpx

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
from providers.maps.disabled import DisabledMaps
from providers.maps.google import GoogleMaps, GoogleMapsSettings

MapsVendor = Literal["google", "none"]


def create_maps_provider(name: MapsVendor, google: GoogleMapsSettings, *, http: httpx.AsyncClient) -> MapsProvider:
    """The maps adapter configured as `name`; check `.configured` before serving a request."""
    return GoogleMaps(google, http) if name == "google" else DisabledMaps()


__all__ = [
    "DEFAULT_COUNTRY",
    "Autocomplete",
    "Directions",
    "DisabledMaps",
    "Geocoding",
    "GoogleMaps",
    "GoogleMapsSettings",
    "LatLng",
    "LocationBias",
    "MapsVendor",
    "MapsProvider",
    "Place",
    "PlaceDetails",
    "PlaceSuggestion",
    "Route",
    "TravelMode",
    "create_maps_provider",
]
