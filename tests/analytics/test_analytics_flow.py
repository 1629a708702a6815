"""Product analytics against the PostHog emulator: queued, batched, ids only, and nothing about users who opted out."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.analytics import ProductEvent, flush_events, track
from gateway.analytics.tracking import queue_key
from gateway.messaging.targets import user_room
from gateway.state import SERVICES
from providers.emulators import serve_emulator
from providers.emulators.posthog import PostHogEmulator
from tests.accounts.helpers import sign_up
from tests.factories import access_token_for, auth_header, create_user
from tests.gateway_apps import gateway_app

PROJECT_KEY = "phc_lango_gateway_test_project_key"


@pytest.fixture
def posthog() -> PostHogEmulator:
    return PostHogEmulator(api_key=PROJECT_KEY)


@pytest.fixture
async def posthog_url(posthog: PostHogEmulator) -> AsyncIterator[str]:
    async with serve_emulator(posthog.app()) as base_url:
        yield base_url


def _posthog_settings(posthog_url: str) -> dict[str, Any]:
    return {"provider": "posthog", "posthog": {"api_key": PROJECT_KEY, "host": posthog_url, "max_batch_size": 3}}


@pytest.fixture
def analytics_app(mongodb_url: str, redis_url: str, posthog_url: str) -> web.Application:
    return gateway_app(mongodb_url, redis_url, analytics=_posthog_settings(posthog_url))


@pytest.fixture
async def analytics_client(aiohttp_client, analytics_app: web.Application) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(analytics_app)


async def test_events_reach_posthog_in_batches_with_ids_only(
    analytics_client: TestClient, posthog: PostHogEmulator
) -> None:
    app = analytics_client.app
    guest = await create_user(app, email="wanjiku@example.com", phone="+254712345678")
    guest_id = str(guest.id)

    await track(app[SERVICES], ProductEvent.SIGNUP, guest_id, {"role": "guest", "email": "wanjiku@example.com"})
    await track(app[SERVICES], ProductEvent.SEARCH, guest_id, {"results": 12, "page": 1, "query": "2br near my home"})
    for amount in (150_000, 90_000, 45_000):
        await track(app[SERVICES], ProductEvent.PAYMENT_SUCCEEDED, guest_id, {"amount_minor": amount, "currency": "KES", "method": "mpesa"})
    assert posthog.batches == 0

    assert await flush_events(app[SERVICES]) == 5

    assert posthog.batches == 2
    assert [event["event"] for event in posthog.events] == [
        "signup", "search", "payment_succeeded", "payment_succeeded", "payment_succeeded",
    ]
    first = posthog.events[0]
    assert set(first) == {"event", "distinct_id", "properties", "timestamp", "uuid"}
    assert first["distinct_id"] == guest_id
    assert first["properties"] == {"role": "guest", "$lib": "lango-gateway"}
    assert datetime.fromisoformat(first["timestamp"]).utcoffset() is not None
    sent = json.dumps(posthog.events)
    for personal in ("wanjiku", "254712345678", "near my home"):
        assert personal not in sent
    assert await app[SERVICES].redis.llen(queue_key(app[SERVICES])) == 0
    assert await flush_events(app[SERVICES]) == 0


async def test_booking_events_on_the_bus_are_tracked_once_for_the_guest(
    analytics_client: TestClient, posthog: PostHogEmulator
) -> None:
    app = analytics_client.app
    booking = {
        "id": "665f1c2a9b1e8a0012345678",
        "property_id": "665f1c2a9b1e8a0087654321",
        "guest_id": "665f1c2a9b1e8a00guest001",
        "agent_id": "665f1c2a9b1e8a00agent001",
        "status": "held",
        "check_in": "2026-12-20",
        "price": {"nights": 3, "total_minor": 4_500_000, "currency": "KES"},
    }
    for status in ("held", "confirmed", "confirmed"):
        for user in (booking["guest_id"], booking["agent_id"]):
            await app[SERVICES].bus.publish(user_room(user), "booking.updated", {**booking, "status": status})

    await flush_events(app[SERVICES])

    assert [(event["event"], event["distinct_id"]) for event in posthog.events] == [
        ("booking_created", booking["guest_id"]),
        ("booking_confirmed", booking["guest_id"]),
        ("booking_confirmed", booking["guest_id"]),
    ]
    # The same booking confirmed twice carries one uuid: PostHog keeps one.
    assert posthog.events[1]["uuid"] == posthog.events[2]["uuid"]
    assert posthog.events[0]["properties"] == {
        "booking_id": booking["id"],
        "property_id": booking["property_id"],
        "nights": 3,
        "amount_minor": 4_500_000,
        "currency": "KES",
        "$lib": "lango-gateway",
    }


async def test_settled_payments_on_the_bus_are_tracked_once_each(
    analytics_client: TestClient, posthog: PostHogEmulator
) -> None:
    app = analytics_client.app
    payer = "665f1c2a9b1e8a00payer001"
    payment = {"id": "665f1c2a9b1e8a0000000pay", "booking_id": "665f1c2a9b1e8a0012345678", "provider": "mpesa",
               "amount_minor": 450_000, "currency": "KES", "receipt": "SGR7Q2X4ZK"}
    for status in ("pending", "succeeded", "succeeded"):
        await app[SERVICES].bus.publish(user_room(payer), "payment.updated", {**payment, "status": status})
    await app[SERVICES].bus.publish(user_room(payer), "payment.updated", {**payment, "id": "665f1c2a9b1e8a0000000bad", "status": "failed"})

    await flush_events(app[SERVICES])

    assert [(event["event"], event["distinct_id"]) for event in posthog.events] == [
        ("payment_succeeded", payer),
        ("payment_succeeded", payer),
        ("payment_failed", payer),
    ]
    assert posthog.events[0]["uuid"] == posthog.events[1]["uuid"]
    assert "receipt" not in posthog.events[0]["properties"]
    assert posthog.events[0]["properties"]["amount_minor"] == 450_000


async def test_signup_and_search_are_tracked_with_ids_only(  # type: ignore[no-untyped-def]
    aiohttp_client, mongodb_url: str, redis_url: str, posthog_url: str, posthog: PostHogEmulator
) -> None:
    # The worker runs inside: the sign-up code is sent by a job. Built off the loop, as the fixtures build theirs.
    settings = {"analytics": _posthog_settings(posthog_url), "jobs": {"in_process": True}}
    app = await asyncio.to_thread(gateway_app, mongodb_url, redis_url, **settings)
    analytics_client = await aiohttp_client(app)
    body = await sign_up(analytics_client, email="achieng@example.com", password="a sturdy pass phrase 42")
    user_id = body["account"]["id"]
    token = body["tokens"]["access_token"]
    search = await analytics_client.get("/v1/properties", params={"county": "Nairobi"}, headers=auth_header(token))
    assert search.status == 200, await search.text()

    await flush_events(analytics_client.app[SERVICES])

    assert [(event["event"], event["distinct_id"]) for event in posthog.events] == [
        ("signup", user_id),
        ("search", user_id),
    ]
    assert "achieng" not in json.dumps(posthog.batches)


async def test_a_user_who_opts_out_sends_nothing_not_even_what_was_queued(
    analytics_client: TestClient, posthog: PostHogEmulator
) -> None:
    app = analytics_client.app
    private, other = await create_user(app), await create_user(app)
    headers = auth_header(access_token_for(app, private))
    await track(app[SERVICES], ProductEvent.SEARCH, str(private.id), {"results": 1})

    turned_off = await analytics_client.put("/v1/me/analytics", json={"enabled": False}, headers=headers)
    await track(app[SERVICES], ProductEvent.SEARCH, str(private.id), {"results": 2})
    await track(app[SERVICES], ProductEvent.SEARCH, str(other.id), {"results": 3})
    await flush_events(app[SERVICES])

    assert (await turned_off.json()) == {"enabled": False}
    assert (await (await analytics_client.get("/v1/me/analytics", headers=headers)).json()) == {"enabled": False}
    assert [event["distinct_id"] for event in posthog.events] == [str(other.id)]

    await analytics_client.put("/v1/me/analytics", json={"enabled": True}, headers=headers)
    await track(app[SERVICES], ProductEvent.SEARCH, str(private.id), {"results": 4})
    await flush_events(app[SERVICES])
    assert [event["distinct_id"] for event in posthog.events] == [str(other.id), str(private.id)]


async def test_a_vendor_outage_keeps_the_batch_for_the_next_flush(
    analytics_client: TestClient, posthog: PostHogEmulator
) -> None:
    app = analytics_client.app
    user = await create_user(app)
    await track(app[SERVICES], ProductEvent.TICKET_SCANNED, str(user.id), {"ticket_id": "tkt-00000001"})
    posthog.forced_status = 503

    assert await flush_events(app[SERVICES]) == 0
    assert await app[SERVICES].redis.llen(queue_key(app[SERVICES])) == 1

    posthog.forced_status = None
    assert await flush_events(app[SERVICES]) == 1
    assert posthog.events[0]["event"] == "ticket_scanned"


async def test_analytics_are_off_unless_configured(aiohttp_client, mongodb_url: str, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    app = (await aiohttp_client(gateway_app(mongodb_url, redis_url))).app
    user = await create_user(app)

    await track(app[SERVICES], ProductEvent.SIGNUP, str(user.id))

    assert await app[SERVICES].redis.exists(queue_key(app[SERVICES])) == 0
    assert await flush_events(app[SERVICES]) == 0
