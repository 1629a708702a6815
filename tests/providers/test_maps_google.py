"""The Google Maps adapter against the emulator over real HTTP: the key stays server-side, each answer parses."""

from collections.abc import AsyncIterator

import httpx
import pytest

from providers.emulators import serve_emulator
from providers.emulators.google_maps import GoogleMapsEmulator
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.maps import (
    DisabledMaps,
    GoogleMaps,
    GoogleMapsSettings,
    LatLng,
    LocationBias,
    MapsProvider,
    TravelMode,
    create_maps_provider,
)

API_KEY = "AIzaSy-lango-test-key"
WESTLANDS = "ChIJw1pKQ2oQLxgRwestlands01"
NAIROBI_CBD = LatLng(lat=-1.2864, lng=36.8172)


@pytest.fixture
def maps_emulator() -> GoogleMapsEmulator:
    return GoogleMapsEmulator(api_key=API_KEY)


@pytest.fixture
async def maps_base_url(maps_emulator: GoogleMapsEmulator) -> AsyncIterator[str]:
    async with serve_emulator(maps_emulator.app()) as base_url:
        yield base_url


@pytest.fixture
async def maps_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def maps(maps_base_url: str, maps_http: httpx.AsyncClient) -> MapsProvider:
    return create_maps_provider("google", GoogleMapsSettings(api_key=API_KEY, base_url=maps_base_url), http=maps_http)


async def test_autocomplete_sends_the_key_session_and_kenya_bias(
    maps: MapsProvider, maps_emulator: GoogleMapsEmulator
) -> None:
    bias = LocationBias(center=NAIROBI_CBD, radius_m=15_000)

    answer = await maps.autocomplete("westl", "session-7f3a", bias=bias)

    assert [(s.place_id, s.main_text, s.secondary_text) for s in answer.suggestions] == [
        (WESTLANDS, "Westlands", "Nairobi, Kenya"),
        ("ChIJsarit0centre0LxgR000001", "Sarit Centre", "Westlands, Nairobi, Kenya"),
    ]
    assert answer.raw["status"] == "OK"
    sent = maps_emulator.requests[-1]
    assert sent["key"] == API_KEY
    assert sent["sessiontoken"] == "session-7f3a"
    assert sent["components"] == "country:ke"
    assert sent["locationbias"] == "circle:15000@-1.2864,36.8172"
    assert maps_emulator.calls["/maps/api/place/autocomplete/json"] == 1


async def test_autocomplete_with_nothing_matching_is_an_empty_answer(maps: MapsProvider) -> None:
    answer = await maps.autocomplete("Kampala", "session-1")

    assert answer.suggestions == []
    assert answer.raw["status"] == "ZERO_RESULTS"


async def test_place_details_resolve_a_prediction(maps: MapsProvider, maps_emulator: GoogleMapsEmulator) -> None:
    details = await maps.place_details(WESTLANDS, session_token="session-7f3a")

    assert details.place.name == "Westlands"
    assert details.place.location == LatLng(lat=-1.2676, lng=36.8108)
    assert details.place.country_code == "ke"
    assert details.place.formatted_address == "Westlands, Nairobi, Kenya"
    assert maps_emulator.requests[-1]["sessiontoken"] == "session-7f3a"
    assert "geometry/location" in maps_emulator.requests[-1]["fields"]


async def test_an_unknown_place_id_is_rejected(maps: MapsProvider) -> None:
    with pytest.raises(VendorRejected) as rejected:
        await maps.place_details("ChIJ-no-such-place")

    assert rejected.value.reason == "NOT_FOUND"


async def test_geocode_and_reverse_geocode(maps: MapsProvider, maps_emulator: GoogleMapsEmulator) -> None:
    found = await maps.geocode("Yaya Centre, Nairobi")
    assert [place.name for place in found.places] == ["Yaya Centre"]
    assert maps_emulator.requests[-1]["components"] == "country:KE"

    nearby = await maps.reverse_geocode(LatLng(lat=-1.2930, lng=36.7880))
    assert nearby.places[0].name == "Yaya Centre"
    assert maps_emulator.requests[-1]["latlng"] == "-1.293,36.788"

    nowhere = await maps.geocode("Atlantis")
    assert nowhere.places == [] and nowhere.raw["status"] == "ZERO_RESULTS"


async def test_directions_between_a_point_and_a_place(maps: MapsProvider, maps_emulator: GoogleMapsEmulator) -> None:
    directions = await maps.directions(NAIROBI_CBD, f"place_id:{WESTLANDS}", TravelMode.WALKING)

    (route,) = directions.routes
    assert 2_000 < route.distance_m < 5_000
    assert route.duration_s == round(route.distance_m / 1000 / 5 * 3600)
    assert route.polyline and route.end_address == "Westlands, Nairobi, Kenya"
    assert maps_emulator.requests[-1]["mode"] == "walking"
    assert maps_emulator.requests[-1]["origin"] == "-1.2864,36.8172"


async def test_directions_to_somewhere_unknown_are_rejected(maps: MapsProvider) -> None:
    with pytest.raises(VendorRejected) as rejected:
        await maps.directions(NAIROBI_CBD, "place_id:ChIJ-gone")

    assert rejected.value.reason == "NOT_FOUND"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("OVER_QUERY_LIMIT", VendorUnavailable),
        ("UNKNOWN_ERROR", VendorUnavailable),
        ("OVER_DAILY_LIMIT", ProviderMisconfigured),
        ("INVALID_REQUEST", VendorRejected),
        ("A_STATUS_GOOGLE_ADDS_LATER", VendorUnavailable),
    ],
)
async def test_google_statuses_map_to_what_the_caller_can_do(
    maps: MapsProvider, maps_emulator: GoogleMapsEmulator, status: str, error: type[Exception]
) -> None:
    maps_emulator.forced_status = status

    with pytest.raises(error) as raised:
        await maps.geocode("Kilimani")

    assert raised.value.reason == status


async def test_a_wrong_key_is_a_deployment_problem(maps_base_url: str, maps_http: httpx.AsyncClient) -> None:
    maps = GoogleMaps(GoogleMapsSettings(api_key="AIza-wrong", base_url=maps_base_url), maps_http)

    with pytest.raises(ProviderMisconfigured) as misconfigured:
        await maps.reverse_geocode(NAIROBI_CBD)

    assert misconfigured.value.reason == "REQUEST_DENIED"
    assert "API key is invalid" in str(misconfigured.value)


async def test_an_unreachable_vendor_is_worth_a_retry(maps_http: httpx.AsyncClient) -> None:
    async with serve_emulator(GoogleMapsEmulator(api_key=API_KEY).app()) as gone_url:
        pass
    maps = GoogleMaps(GoogleMapsSettings(api_key=API_KEY, base_url=gone_url), maps_http)

    with pytest.raises(VendorUnavailable):
        await maps.geocode("Karen")


async def test_without_a_key_maps_report_unconfigured_and_never_call(
    maps_base_url: str, maps_http: httpx.AsyncClient, maps_emulator: GoogleMapsEmulator
) -> None:
    keyless = create_maps_provider("google", GoogleMapsSettings(base_url=maps_base_url), http=maps_http)
    disabled = create_maps_provider("none", GoogleMapsSettings(api_key=API_KEY), http=maps_http)

    assert not keyless.configured and not disabled.configured
    assert isinstance(disabled, DisabledMaps)
    for provider in (keyless, disabled):
        with pytest.raises(ProviderMisconfigured):
            await provider.geocode("Karen")
    assert sum(maps_emulator.calls.values()) == 0
