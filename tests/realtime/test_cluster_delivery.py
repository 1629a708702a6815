"""Two gateway processes on one Redis: events cross nodes, and a client that moves node recovers what it missed."""

from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from gateway.messaging import MessageBus, user_room
from gateway.security.tokens import TokenService
from tests.realtime.conftest import Cluster, RecordingClient, issue

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking

RECOVERY = "session.recovery"


async def test_an_event_published_anywhere_reaches_every_socket_of_the_user_on_every_node(
    cluster: Cluster, bus: MessageBus, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    on_a, on_b, stranger = clients(), clients(), clients()
    token = issue(tokens, "amina")
    await on_a.connect(node_a, {"token": token})
    await on_b.connect(node_b, {"token": token})
    await stranger.connect(node_b, {"token": issue(tokens, "baraka")})
    for client in (on_a, on_b, stranger):
        await client.wait_for(lambda c: bool(c.of_type(RECOVERY)))

    published = await bus.publish(user_room("amina"), "payment.updated", {"payment_id": "p1", "status": "succeeded"})

    assert published.nodes_reached == 2
    for client in (on_a, on_b):
        await client.wait_for(lambda c: bool(c.of_type("payment.updated")))
        envelope = client.of_type("payment.updated")[0]
        assert envelope["id"] == published.event_id == 1
        assert envelope["room"] == "user:amina"
        assert envelope["data"] == {"payment_id": "p1", "status": "succeeded"}
        assert envelope["ts"].endswith("Z")
    await stranger.sio.emit("rooms.leave", {"room": "property:none"})
    assert stranger.envelopes() == []


async def test_a_client_that_moves_node_gets_exactly_what_it_missed_in_order_then_live_events(
    cluster: Cluster, bus: MessageBus, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    room = user_room("chausiku")
    first = clients()
    await first.connect(node_a, {"token": issue(tokens, "chausiku")})
    await first.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    for number in range(3):
        await bus.publish(room, "booking.updated", {"n": number})
    await first.wait_for(lambda c: len(c.envelopes()) == 3)
    last_seen = first.envelopes()[-1]["id"]
    await first.close()

    missed = [await bus.publish(room, "booking.updated", {"n": 3 + number}) for number in range(50)]

    second = clients()
    await second.connect(node_b, {"token": issue(tokens, "chausiku"), "last_event_id": last_seen})
    await second.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    live = await bus.publish(room, "booking.updated", {"n": "live"})
    await second.wait_for(lambda c: any(e["id"] == live.event_id for e in c.envelopes()))

    received = [event for event, _ in second.events]
    replayed = second.envelopes()
    assert [e["id"] for e in replayed] == [p.event_id for p in missed] + [live.event_id]
    assert [e["data"]["n"] for e in replayed[:50]] == list(range(3, 53))
    assert received.index(RECOVERY) == 50, "the recovery notice comes after the replay and before live events"
    assert second.of_type(RECOVERY) == [
        {"room": room, "recovered": True, "replayed": 50, "last_event_id": missed[-1].event_id}
    ]


async def test_a_client_whose_history_has_expired_is_told_to_resync(
    cluster: Cluster, bus: MessageBus, redis: Redis, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node = await cluster.start_node()
    room = user_room("dalila")
    await bus.publish(room, "booking.updated", {"n": 1})
    await redis.delete(bus.keys.history(room))  # the window has passed: only the counter is left

    client = clients()
    await client.connect(node, {"token": issue(tokens, "dalila"), "last_event_id": 0})
    await client.wait_for(lambda c: bool(c.of_type(RECOVERY)))

    assert client.of_type(RECOVERY) == [{"room": room, "recovered": False, "replayed": 0, "last_event_id": 1}]
    assert client.envelopes() == []
