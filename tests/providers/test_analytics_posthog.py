"""The PostHog sink against the emulator over real HTTP: the batch wire shape, chunking and failures."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from pydantic import ValidationError

from providers.analytics import (
    AnalyticsEvent,
    AnalyticsSink,
    DisabledAnalytics,
    PostHogAnalytics,
    PostHogSettings,
    create_analytics_sink,
)
from providers.emulators import serve_emulator
from providers.emulators.posthog import PostHogEmulator
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable

PROJECT_KEY = "phc_lango_test_project_key"
USER = "65f1c0ffee0123456789abcd"
EAST_AFRICA = timezone(timedelta(hours=3))


@pytest.fixture
def posthog_emulator() -> PostHogEmulator:
    return PostHogEmulator(api_key=PROJECT_KEY)


@pytest.fixture
async def posthog_host(posthog_emulator: PostHogEmulator) -> AsyncIterator[str]:
    async with serve_emulator(posthog_emulator.app()) as base_url:
        yield base_url


@pytest.fixture
async def analytics_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def posthog(posthog_host: str, analytics_http: httpx.AsyncClient) -> AnalyticsSink:
    return create_analytics_sink(
        "posthog", PostHogSettings(api_key=PROJECT_KEY, host=posthog_host), http=analytics_http
    )


def _viewed(listing: str, **properties: str | int) -> AnalyticsEvent:
    return AnalyticsEvent(
        event="listing_viewed",
        distinct_id=USER,
        properties={"listing_id": listing, **properties},
        timestamp=datetime(2025, 3, 1, 12, 30, tzinfo=EAST_AFRICA),
    )


async def test_a_batch_reaches_posthog_in_its_wire_shape(
    posthog: AnalyticsSink, posthog_emulator: PostHogEmulator
) -> None:
    first, second = _viewed("l1", county="nairobi", price_minor=1_200_000), _viewed("l2")

    await posthog.capture_batch([first, second])

    assert posthog_emulator.batches == 1
    assert posthog_emulator.events == [
        {
            "event": "listing_viewed",
            "distinct_id": USER,
            "properties": {"listing_id": "l1", "county": "nairobi", "price_minor": 1_200_000, "$lib": "lango-gateway"},
            "timestamp": "2025-03-01T09:30:00+00:00",
            "uuid": str(first.uuid),
        },
        {
            "event": "listing_viewed",
            "distinct_id": USER,
            "properties": {"listing_id": "l2", "$lib": "lango-gateway"},
            "timestamp": "2025-03-01T09:30:00+00:00",
            "uuid": str(second.uuid),
        },
    ]


async def test_large_batches_are_split(
    posthog_host: str, analytics_http: httpx.AsyncClient, posthog_emulator: PostHogEmulator
) -> None:
    sink = PostHogAnalytics(PostHogSettings(api_key=PROJECT_KEY, host=posthog_host, max_batch_size=2), analytics_http)

    await sink.capture_batch([_viewed(f"l{n}") for n in range(5)])

    assert posthog_emulator.batches == 3
    assert [event["properties"]["listing_id"] for event in posthog_emulator.events] == [f"l{n}" for n in range(5)]


async def test_a_wrong_project_key_is_a_deployment_problem(
    posthog_host: str, analytics_http: httpx.AsyncClient
) -> None:
    sink = create_analytics_sink(
        "posthog", PostHogSettings(api_key="phc_wrong", host=posthog_host), http=analytics_http
    )

    with pytest.raises(ProviderMisconfigured) as misconfigured:
        await sink.capture_batch([_viewed("l1")])

    assert "invalid_api_key" in (misconfigured.value.reason or "")


@pytest.mark.parametrize(
    ("status", "error"), [(503, VendorUnavailable), (429, VendorUnavailable), (400, VendorRejected)]
)
async def test_vendor_failures_map_to_what_the_caller_can_do(
    posthog: AnalyticsSink, posthog_emulator: PostHogEmulator, status: int, error: type[Exception]
) -> None:
    posthog_emulator.forced_status = status

    with pytest.raises(error):
        await posthog.capture_batch([_viewed("l1")])


@pytest.mark.parametrize(
    "distinct_id", ["wanjiku@example.co.ke", "254712345678", "+254 712 345 678", "Wanjiku Kamau", "short"]
)
def test_personal_data_cannot_be_a_distinct_id(distinct_id: str) -> None:
    with pytest.raises(ValidationError):
        AnalyticsEvent(event="listing_viewed", distinct_id=distinct_id)


def test_properties_are_scalars_without_person_overrides() -> None:
    with pytest.raises(ValidationError):
        AnalyticsEvent(event="listing_viewed", distinct_id=USER, properties={"$set": "x"})
    with pytest.raises(ValidationError):
        AnalyticsEvent.model_validate({"event": "listing_viewed", "distinct_id": USER, "properties": {"photos": ["a"]}})
    with pytest.raises(ValidationError):
        AnalyticsEvent(event="listing_viewed", distinct_id=USER, timestamp=datetime(2025, 3, 1))


async def test_the_disabled_sink_drops_events_and_says_it_is_unconfigured(analytics_http: httpx.AsyncClient) -> None:
    sink = create_analytics_sink("none", PostHogSettings(api_key=PROJECT_KEY), http=analytics_http)

    await sink.capture_batch([_viewed("l1"), _viewed("l2")])

    assert isinstance(sink, DisabledAnalytics)
    assert not sink.configured and sink.dropped == 2


async def test_choosing_posthog_without_a_key_fails_at_start(analytics_http: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderMisconfigured, match=r"analytics\.posthog\.api_key"):
        create_analytics_sink("posthog", PostHogSettings(host="https://eu.i.posthog.com"), http=analytics_http)


def test_events_default_to_now_in_utc() -> None:
    before = datetime.now(UTC)

    event = AnalyticsEvent(event="app_opened", distinct_id=USER)

    assert event.timestamp.tzinfo == UTC and before <= event.timestamp <= datetime.now(UTC)


async def test_forgetting_people_deletes_them_and_their_events_through_the_persons_api(
    posthog_emulator: PostHogEmulator, posthog_host: str, analytics_http: httpx.AsyncClient
) -> None:
    def sink(**keys: str) -> AnalyticsSink:
        settings = PostHogSettings(api_key=PROJECT_KEY, host=posthog_host, app_host=posthog_host, **keys)
        return create_analytics_sink("posthog", settings, http=analytics_http)

    keyed = sink(personal_api_key=posthog_emulator.personal_api_key, project_id=posthog_emulator.project_id)
    await keyed.capture_batch([_viewed("listing-1")])
    await keyed.forget_people([USER])
    # A wrong key is the deployment's to fix, like a missing one.
    with pytest.raises(ProviderMisconfigured):
        await sink(personal_api_key="phx_not_the_key", project_id=posthog_emulator.project_id).forget_people([USER])
    with pytest.raises(ProviderMisconfigured):
        await sink().forget_people([USER])

    assert posthog_emulator.deleted == [USER]
    assert posthog_emulator.events == []
