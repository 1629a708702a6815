"""The maps provider of a deployment without one: it says so, and every call is a configuration error."""

from providers.errors import ProviderMisconfigured
from providers.maps.base import (
    DEFAULT_COUNTRY,
    Autocomplete,
    Directions,
    Geocoding,
    LatLng,
    LocationBias,
    MapsProvider,
    PlaceDetails,
    TravelMode,
)


class DisabledMaps(MapsProvider):
    """Reports `configured = False` so the gateway answers 503 before ever calling it."""

    name = "none"

    @property
    def configured(self) -> bool:
        return False

    def _refuse(self) -> ProviderMisconfigured:
        return ProviderMisconfigured("maps.provider is none: no maps vendor is configured", vendor=self.name)

    async def autocomplete(
        self,
        text: str,
        session_token: str,
        *,
        bias: LocationBias | None = None,
        country: str = DEFAULT_COUNTRY,
    ) -> Autocomplete:
        raise self._refuse()

    async def place_details(self, place_id: str, session_token: str | None = None) -> PlaceDetails:
        raise self._refuse()

    async def geocode(self, address: str, *, country: str = DEFAULT_COUNTRY) -> Geocoding:
        raise self._refuse()

    async def reverse_geocode(self, point: LatLng) -> Geocoding:
        raise self._refuse()

    async def directions(
        self, origin: LatLng | str, destination: LatLng | str, mode: TravelMode = TravelMode.DRIVING
    ) -> Directions:
        raise self._refuse()
