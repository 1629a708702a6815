"""A Redis outage: nodes report not-ready while deaf, resubscribe by themselves, and lose nothing published after."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from gateway.embedded import ChildServer, start_redis, wait_until_answers
from gateway.messaging import user_room
from gateway.security.tokens import TokenService
from gateway.settings import EmbeddedSettings
from tests.conftest import free_port, make_settings
from tests.realtime.conftest import Cluster, RecordingClient, close_bus, eventually, issue, open_bus

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[ChildServer]:
    """A redis-server of this test only, so it can be killed; every write is on disk before it is acknowledged."""
    server = start_redis(EmbeddedSettings(), port=free_port(), data_dir=tmp_path / "own-redis")
    wait_until_answers(server, timeout_s=30)
    yield server
    server.stop()


async def test_nodes_survive_a_redis_restart_and_lose_no_event_published_after_it(
    own_redis: ChildServer,
    cluster: Cluster,
    mongodb_url: str,
    tmp_path: Path,
    tokens: TokenService,
    clients: Callable[[], RecordingClient],
) -> None:
    cluster.redis_url = own_redis.url
    cluster.settings = make_settings(
        mongodb_url, own_redis.url, auth=cluster.settings.auth.model_dump(mode="json") | {
            "signing_keys": cluster.settings.auth.signing_keys.get_secret_value()  # type: ignore[union-attr]
        }, realtime=cluster.settings.realtime.model_dump(), redis={"namespace": cluster.settings.redis.namespace}
    )  # fmt: skip
    opened = await open_bus(cluster.settings)
    await opened.redis.config_set("appendfsync", "always")
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    client = clients()
    await client.connect(node_b, {"token": issue(tokens, "zawadi")})
    await client.wait_for(lambda c: bool(c.of_type("session.recovery")))
    before = await opened.bus.publish(user_room("zawadi"), "booking.updated", {"n": "before"})
    await client.wait_for(lambda c: len(c.envelopes()) == 1)
    await close_bus(opened)

    own_redis.process.kill()
    own_redis.process.wait()
    for node in (node_a, node_b):
        await eventually(lambda node=node: _readiness_is(node, 503), timeout=10, what="/readyz to report the outage")

    restarted = start_redis(EmbeddedSettings(), port=int(own_redis.url.rsplit(":", 1)[1].split("/")[0]),
                            data_dir=tmp_path / "own-redis")  # fmt: skip
    try:
        wait_until_answers(restarted, timeout_s=30)
        opened = await open_bus(cluster.settings)
        after = [await opened.bus.publish(user_room("zawadi"), "booking.updated", {"n": n}) for n in range(5)]
        await client.wait_for(lambda c: len(c.envelopes()) == 6, timeout=15)
        for node in (node_a, node_b):
            await eventually(lambda node=node: _readiness_is(node, 200), timeout=15, what="/readyz to recover")
    finally:
        await close_bus(opened)
        restarted.stop()

    assert [e["id"] for e in client.envelopes()] == [before.event_id, *(p.event_id for p in after)]
    assert client.disconnects == 0, "the socket stays up through the outage"


async def _readiness_is(node, status: int) -> bool:  # type: ignore[no-untyped-def]
    return await node.readiness() == status
