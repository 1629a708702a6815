"""The maps proxy against the Google Maps emulator: the key stays on the server, answers are cached, users limited."""

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.logs import configure_logging
from gateway.settings import LoggingSettings
from providers.emulators import serve_emulator
from providers.emulators.google_maps import GoogleMapsEmulator
from tests.factories import access_token_for, auth_header, create_user
from tests.gateway_apps import gateway_app

API_KEY = "AIzaSy-lango-gateway-test-key"
WESTLANDS = "ChIJw1pKQ2oQLxgRwestlands01"
AUTOCOMPLETE = "/maps/api/place/autocomplete/json"
PROBLEM = "urn:lango:problem:"


@pytest.fixture
def emulator() -> GoogleMapsEmulator:
    return GoogleMapsEmulator(api_key=API_KEY)


@pytest.fixture
async def emulator_url(emulator: GoogleMapsEmulator) -> AsyncIterator[str]:
    async with serve_emulator(emulator.app()) as base_url:
        yield base_url


@pytest.fixture
def maps_app(mongodb_url: str, redis_url: str, emulator_url: str) -> web.Application:
    return gateway_app(
        mongodb_url,
        redis_url,
        maps={"google": {"api_key": API_KEY, "base_url": emulator_url}},
        rate_limits={"maps_requests_per_user": "8/minute"},
    )


@pytest.fixture
async def maps_client(aiohttp_client, maps_app: web.Application) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(maps_app)


@pytest.fixture
async def keyless_client(aiohttp_client, mongodb_url: str, redis_url: str) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(gateway_app(mongodb_url, redis_url))


async def _headers(app: web.Application) -> dict[str, str]:
    return auth_header(access_token_for(app, await create_user(app)))


EVERY_ROUTE = [
    "/v1/maps/autocomplete?input=westl&session_token=7f3a9c2e-session",
    f"/v1/maps/places/{WESTLANDS}?session_token=7f3a9c2e-session",
    "/v1/maps/geocode?address=Kilimani",
    "/v1/maps/reverse-geocode?lat=-1.2676&lng=36.8108",
    f"/v1/maps/directions?origin=-1.2864,36.8172&destination=place_id:{WESTLANDS}&mode=walking",
]


async def test_every_route_answers_through_the_vendor_without_the_key_reaching_the_client(
    maps_client: TestClient, emulator: GoogleMapsEmulator
) -> None:
    headers = await _headers(maps_client.app)

    bodies = []
    for route in EVERY_ROUTE:
        answer = await maps_client.get(route, headers=headers)
        assert answer.status == 200, (route, await answer.text())
        bodies.append(await answer.text())

    assert all(request["key"] == API_KEY for request in emulator.requests)
    assert len(emulator.requests) == len(EVERY_ROUTE)
    assert not any(API_KEY in body or "AIza" in body for body in bodies)
    assert '"main_text":"Westlands"' in bodies[0]
    assert '"raw"' not in "".join(bodies)


async def test_a_repeated_question_is_answered_from_the_cache(maps_client: TestClient, emulator: GoogleMapsEmulator) -> None:
    headers = await _headers(maps_client.app)

    first = await maps_client.get("/v1/maps/autocomplete?input=Westl&session_token=session-aaaa", headers=headers)
    # Another user, another session token, other case and spacing: the same question.
    other = await _headers(maps_client.app)
    again = await maps_client.get("/v1/maps/autocomplete?input=%20westl%20&session_token=session-bbbb", headers=other)
    different = await maps_client.get("/v1/maps/autocomplete?input=kile&session_token=session-aaaa", headers=headers)

    assert emulator.calls[AUTOCOMPLETE] == 2
    assert await first.json() == await again.json()
    assert await different.json() != await first.json()


async def test_each_user_is_limited_and_told_when_to_come_back(maps_client: TestClient) -> None:
    busy, other = await _headers(maps_client.app), await _headers(maps_client.app)

    statuses = [
        (await maps_client.get("/v1/maps/geocode?address=Karen", headers=busy)).status for _ in range(8)
    ]
    refused = await maps_client.get("/v1/maps/geocode?address=Karen", headers=busy)

    assert statuses == [200] * 8
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await refused.json())["type"] == PROBLEM + "rate-limited"
    assert (await maps_client.get("/v1/maps/geocode?address=Karen", headers=other)).status == 200


async def test_without_a_key_maps_are_unavailable(keyless_client: TestClient) -> None:
    headers = await _headers(keyless_client.app)

    for route in EVERY_ROUTE:
        answer = await keyless_client.get(route, headers=headers)
        assert answer.status == 503
        assert answer.content_type == "application/problem+json"
        assert (await answer.json())["type"] == PROBLEM + "maps-unavailable"


async def test_signed_out_callers_and_bad_questions_are_refused(maps_client: TestClient, emulator: GoogleMapsEmulator) -> None:
    headers = await _headers(maps_client.app)

    anonymous = await maps_client.get("/v1/maps/geocode?address=Karen")
    no_session = await maps_client.get("/v1/maps/autocomplete?input=westl", headers=headers)
    half_bias = await maps_client.get("/v1/maps/autocomplete?input=w&session_token=session-aaaa&near_lat=1", headers=headers)
    bad_waypoint = await maps_client.get("/v1/maps/directions?origin=home&destination=-1.2,36.8", headers=headers)
    unknown_place = await maps_client.get("/v1/maps/places/ChIJnothing0here000000", headers=headers)

    assert anonymous.status == 401
    assert (no_session.status, half_bias.status, bad_waypoint.status) == (422, 422, 422)
    assert unknown_place.status == 404
    assert (await unknown_place.json())["type"] == PROBLEM + "place-not-found"


async def test_a_vendor_in_trouble_is_a_503_to_retry(maps_client: TestClient, emulator: GoogleMapsEmulator) -> None:
    emulator.forced_status = "OVER_QUERY_LIMIT"

    answer = await maps_client.get("/v1/maps/geocode?address=Karen", headers=await _headers(maps_client.app))

    assert answer.status == 503
    assert (await answer.json())["type"] == PROBLEM + "maps-vendor-unavailable"
    assert "Retry-After" in answer.headers


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs_at_debug() -> Iterator[_Recorder]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(LoggingSettings(level="DEBUG", format="json"))
    recorder = _Recorder()
    recorder.setFormatter(root.handlers[0].formatter)
    root.addHandler(recorder)
    try:
        yield recorder
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_no_log_line_carries_the_key(
    maps_client: TestClient, emulator: GoogleMapsEmulator, logs_at_debug: _Recorder
) -> None:
    headers = await _headers(maps_client.app)
    for route in EVERY_ROUTE:
        assert (await maps_client.get(route, headers=headers)).status == 200
    emulator.forced_status = "REQUEST_DENIED"
    await maps_client.get("/v1/maps/geocode?address=Lavington", headers=headers)

    assert len(emulator.requests) == len(EVERY_ROUTE) + 1
    assert any("maps vendor refused" in line for line in logs_at_debug.lines)
    assert not any(API_KEY in line for line in logs_at_debug.lines)
