"""The realtime hub on a Redis Cluster of three primaries with replicas: a representative part of the realtime tests
(and a rate limit and a cache) run again on it, and a primary killed and failed over loses no event published once
the cluster is healthy."""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis, RedisCluster
from redis.crc import key_slot

from gateway.messaging import BusUnavailable, MessageBus, Published, user_room
from gateway.messaging.batching import BatchedScript
from gateway.redis_client import connect_redis, create_redis
from gateway.security.tokens import TokenService
from gateway.settings import Settings
from tests.accounts.test_signup import test_concurrent_sign_ups_from_one_address_stop_at_its_limit
from tests.conftest import make_settings
from tests.properties.test_search import test_results_are_cached_until_a_listing_or_its_availability_changes
from tests.realtime.conftest import FAST_REALTIME, Cluster, GatewayNode, RecordingClient, eventually, issue
from tests.realtime.test_batched_publish import (
    test_a_burst_of_publishes_to_one_room_gets_every_id_once_in_history_order,
    test_publish_many_answers_each_event_in_order_with_its_rooms_next_id,
)
from tests.realtime.test_cluster_delivery import (
    test_an_event_published_anywhere_reaches_every_socket_of_the_user_on_every_node,
)
from tests.realtime.test_conversation_delivery import (
    test_a_message_sent_through_one_node_reaches_the_other_party_on_another_and_after_a_reconnect,
)
from tests.realtime.test_history_reads import test_reads_of_many_rooms_in_one_loop_turn_each_get_their_own_rooms_events
from tests.realtime.test_push_fallback import (
    test_a_burst_for_an_offline_user_yields_one_push_with_the_latest_event_and_an_online_user_gets_none,
)
from tests.realtime.test_session_revocation import (
    test_logout_closes_the_sessions_sockets_on_every_node_and_its_token_opens_no_other,
)
from tests.realtime.test_socket_guards import sockets, test_an_account_holds_only_so_many_sockets_counted_across_nodes  # noqa: F401 (sockets: the imported test's fixture)
from tests.redis_cluster import LocalRedisCluster

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking

# The tests above, imported, run here again with the fixtures below: the same assertions on the cluster.
ON_THE_CLUSTER = (
    test_a_burst_of_publishes_to_one_room_gets_every_id_once_in_history_order,
    test_publish_many_answers_each_event_in_order_with_its_rooms_next_id,
    test_reads_of_many_rooms_in_one_loop_turn_each_get_their_own_rooms_events,
    test_an_event_published_anywhere_reaches_every_socket_of_the_user_on_every_node,
    test_a_burst_for_an_offline_user_yields_one_push_with_the_latest_event_and_an_online_user_gets_none,
    test_logout_closes_the_sessions_sockets_on_every_node_and_its_token_opens_no_other,
    # Conversations: messages, read receipts and typing indicators (never kept) between nodes.
    test_a_message_sent_through_one_node_reaches_the_other_party_on_another_and_after_a_reconnect,
    test_an_account_holds_only_so_many_sockets_counted_across_nodes,
    # Rate limits and caches, through whole apps on the cluster.
    test_concurrent_sign_ups_from_one_address_stop_at_its_limit,
    test_results_are_cached_until_a_listing_or_its_availability_changes,
)


def _on_cluster(mongodb_url: str, redis_cluster: LocalRedisCluster, redis_url: str, **overrides: object) -> Settings:
    """Settings for the cluster; the job queue keeps a single Redis (gateway/jobs.py says why)."""
    redis = {"cluster": True, **overrides.pop("redis", {})}  # type: ignore[dict-item]
    return make_settings(mongodb_url, redis_cluster.url, redis=redis, jobs={"redis_url": redis_url}, **overrides)


@pytest.fixture
def settings(mongodb_url: str, redis_cluster: LocalRedisCluster, redis_url: str) -> Settings:
    return _on_cluster(mongodb_url, redis_cluster, redis_url)


@pytest.fixture
def cluster_settings(mongodb_url: str, redis_cluster: LocalRedisCluster, redis_url: str, signing_keys: str) -> Settings:
    return _on_cluster(
        mongodb_url, redis_cluster, redis_url, auth={"signing_keys": signing_keys}, realtime=FAST_REALTIME
    )


@pytest.fixture
async def cluster(
    cluster_settings: Settings, mongodb_url: str, redis_cluster: LocalRedisCluster, redis_url: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    on_cluster = {"LANGO_REDIS__CLUSTER": "true", "LANGO_JOBS__REDIS_URL": redis_url}
    running = Cluster(cluster_settings, redis_cluster.url, mongodb_url, tmp_path, extra_env=on_cluster)
    yield running
    await asyncio.gather(*(node.stop() for node in running.nodes))


@pytest.fixture
async def redis(cluster_settings: Settings) -> AsyncIterator[Redis]:
    client = create_redis(cluster_settings.redis)
    yield client
    await client.aclose()


async def test_a_rooms_keys_share_one_slot_and_a_node_listens_in_every_partition_on_sharded_channels(
    bus: MessageBus, redis: RedisCluster, cluster: Cluster
) -> None:
    await cluster.start_node()
    keys = bus.keys
    room = user_room("wanjiru")
    room_keys = [keys.sequence(room), keys.history(room), keys.presence(room), keys.pending_push("wanjiru", "payment")]
    tag = keys.partition(room)
    prefix = f"{keys.node_channel_prefix}*"

    sharded: set[bytes] = set()
    classic: set[bytes] = set()
    await redis.initialize()
    for primary in redis.get_primaries():
        sharded |= set(await redis.execute_command("PUBSUB SHARDCHANNELS", prefix, target_nodes=primary))
        classic |= set(await redis.execute_command("PUBSUB CHANNELS", prefix, target_nodes=primary))

    assert {await redis.cluster_keyslot(key) for key in [*room_keys, keys.nodes_at(tag)]} == {
        await redis.cluster_keyslot(keys.node_channel("any-node", tag))
    }
    assert len(sharded) == len(keys.partitions()) and not classic


async def test_a_primary_killed_and_failed_over_loses_no_event_published_once_the_cluster_is_healthy(
    redis_cluster: LocalRedisCluster,
    cluster: Cluster,
    bus: MessageBus,
    tokens: TokenService,
    clients: Callable[[], RecordingClient],
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    users = [f"kioko-{number}" for number in range(6)]
    sockets: dict[str, list[RecordingClient]] = {}
    for number, user in enumerate(users):
        sockets[user] = [clients(), clients()]
        for client, node in zip(sockets[user], (node_a, node_b) if number % 2 else (node_b, node_a), strict=True):
            await client.connect(node, {"token": issue(tokens, user)})
    for client in (client for pair in sockets.values() for client in pair):
        await client.wait_for(lambda c: bool(c.of_type("session.recovery")))
    before = [await bus.publish(user_room(user), "booking.updated", {"at": "before"}) for user in users]
    victim_room = user_room(users[0])
    victim = redis_cluster.primary_of(bus.keys.sequence(victim_room))

    victim.kill()
    try:
        await asyncio.to_thread(redis_cluster.wait_healthy)
        for node in (node_a, node_b):
            await eventually(lambda node=node: _ready(node), 30, "the node to resubscribe on the promoted replica")
        after = [await _published_once_taken(bus, user_room(user), round_) for round_ in range(3) for user in users]
    finally:
        # In this thread: a node started from a worker thread would die with that thread (it dies with its parent).
        redis_cluster.restart(victim)

    for user in users:
        expected = [p.event_id for p in after if p.target == user_room(user)]
        for client in sockets[user]:
            await client.wait_for(lambda c, expected=expected: set(expected) <= {e["id"] for e in c.envelopes()}, 20)
            live = [e["id"] for e in client.envelopes() if e["data"].get("at") == "after"]
            assert live == expected, f"{user}: every event published after the failover, once and in order"
    assert all(p.nodes_reached == 2 for p in before)
    assert redis_cluster.primary_of(bus.keys.sequence(victim_room)).port != victim.port


async def _ready(node: GatewayNode) -> bool:
    return await node.readiness() == 200


async def _published_once_taken(bus: MessageBus, room: str, round_: int) -> Published:
    """Publish as a flow's job does: an attempt Redis did not take is tried again (a node may still be failing)."""
    for _ in range(50):
        try:
            return await bus.publish(room, "booking.updated", {"at": "after", "round": round_})
        except BusUnavailable:
            await asyncio.sleep(0.2)
    raise AssertionError(f"no publish to {room} was taken")


async def test_a_script_call_sent_where_its_slot_no_longer_lives_runs_once_on_the_primary_that_owns_it(
    cluster_settings: Settings,
) -> None:
    client = create_redis(cluster_settings.redis)
    await connect_redis(client)
    script = BatchedScript(
        client,
        "local counts = {} for i = 1, #KEYS do counts[i] = redis.call('INCR', KEYS[i]) end return counts",
        [],
        [],
    )
    key = f"{cluster_settings.redis.namespace}:{{p1}}:moved"
    slot = key_slot(key.encode())
    owner = client.nodes_manager.slots_cache[slot][0]
    # The map goes stale as after a resharding: the call first reaches a primary that answers MOVED.
    client.nodes_manager.slots_cache[slot] = [next(node for node in client.get_primaries() if node.name != owner.name)]

    counted = await script([key], [])

    assert counted == 1 and await client.get(key) == b"1"
    assert client.nodes_manager.slots_cache[slot][0].name == owner.name
    await script.close()
    await client.delete(key)
    await client.aclose()
