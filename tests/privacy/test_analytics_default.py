"""Analytics off by default (privacy.analytics_default_on = false): only people who turned them on are sent."""

import pytest
from aiohttp.test_utils import TestClient

from gateway.analytics import ProductEvent, flush_events, track
from gateway.state import SERVICES
from providers.emulators.posthog import PostHogEmulator
from tests.properties.builders import signed_in


@pytest.fixture
def privacy_overrides() -> dict[str, object]:
    return {"analytics_default_on": False}


async def test_with_analytics_off_by_default_only_those_who_turned_them_on_are_sent(
    client: TestClient, posthog: PostHogEmulator
) -> None:
    services = client.app[SERVICES]
    chose, chose_headers = await signed_in(client)
    never, never_headers = await signed_in(client)
    refused, refused_headers = await signed_in(client)
    await client.put("/v1/me/analytics", headers=chose_headers, json={"enabled": True})
    await client.put("/v1/me/analytics", headers=refused_headers, json={"enabled": False})
    shown = await (await client.get("/v1/me/analytics", headers=never_headers)).json()

    for user_id in (chose, never, refused):
        await track(services, ProductEvent.SEARCH, user_id, {"results": 1})
    await flush_events(services)

    assert shown == {"enabled": False}
    assert [event["distinct_id"] for event in posthog.events] == [chose]
