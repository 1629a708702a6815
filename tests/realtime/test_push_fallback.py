"""Offline users get one push per burst of events under a collapse key; online users get none."""

from collections.abc import Callable

import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from gateway.messaging import MessageBus, PushNotice, user_room
from gateway.security.tokens import TokenService
from providers.outbox import list_outbox
from tests.conftest import TEST_DATABASE
from tests.realtime.conftest import Cluster, RecordingClient, eventually, issue

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking

NOTICE = PushNotice(title="Payment", body="Your payment was updated")


async def test_a_burst_for_an_offline_user_yields_one_push_with_the_latest_event_and_an_online_user_gets_none(
    cluster: Cluster,
    bus: MessageBus,
    redis: Redis,
    mongo: AsyncMongoClient,
    tokens: TokenService,
    clients: Callable[[], RecordingClient],
) -> None:
    node = await cluster.start_node()
    await mongo[TEST_DATABASE]["devices"].insert_many([
        {"user_id": "offline-olive", "token": "olive-phone", "platform": "android"},
        {"user_id": "online-omar", "token": "omar-phone", "platform": "ios"},
    ])  # fmt: skip
    online = clients()
    await online.connect(node, {"token": issue(tokens, "online-omar")})
    await online.wait_for(lambda c: bool(c.of_type("session.recovery")))

    to_online = await bus.publish(user_room("online-omar"), "payment.updated", {"status": "pending"}, push=NOTICE)
    burst = [
        await bus.publish(
            user_room("offline-olive"), "payment.updated", {"status": status}, collapse_key="payment:p9", push=NOTICE
        )
        for status in ("pending", "pending", "succeeded")
    ]
    other_key = await bus.publish(
        user_room("offline-olive"), "booking.updated", {"status": "confirmed"}, collapse_key="booking:b4", push=NOTICE
    )
    namespace = cluster.settings.redis.namespace

    pushes = await eventually(
        lambda: _pushes_when(redis, namespace, count=2), timeout=20, what="the two debounced pushes"
    )

    assert to_online.nodes_reached == 1 and not to_online.push_burst_started
    assert [published.push_burst_started for published in burst] == [True, False, False]
    assert other_key.push_burst_started
    by_key = {push["collapse_key"]: push for push in pushes}
    assert sorted(by_key) == ["booking:b4", "payment:p9"]
    assert by_key["payment:p9"]["to"] == ["olive-phone"]
    assert by_key["payment:p9"]["data"] == {"event_id": str(burst[-1].event_id), "type": "payment.updated",
                                            "room": "user:offline-olive"}  # fmt: skip
    assert all("omar-phone" not in push["to"] for push in pushes)
    assert await redis.exists(bus.keys.pending_push("offline-olive", "payment:p9")) == 0


async def _pushes_when(redis: Redis, namespace: str, count: int) -> list[dict] | None:
    pushes = await list_outbox(redis, namespace, "push")
    if len(pushes) > count:
        raise AssertionError(f"more pushes than bursts: {pushes}")
    return pushes if len(pushes) == count else None
