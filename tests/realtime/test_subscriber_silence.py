"""A subscription whose network path goes silent without closing: the node reports not-ready, then resubscribes."""

import asyncio

from redis.asyncio import Redis

from gateway.messaging.keys import RealtimeKeys
from gateway.realtime.subscriber import NodeSubscriber, SubscriberDeaf
from gateway.redis_client import create_redis
from tests.conftest import make_settings
from tests.realtime.conftest import FAST_REALTIME, SilencingProxy, eventually


async def test_a_silent_subscription_reports_not_ready_then_resubscribes_and_delivers(
    proxy: tuple[SilencingProxy, str], redis: Redis, mongodb_url: str
) -> None:
    relay, proxied_url = proxy
    settings = make_settings(mongodb_url, proxied_url, realtime=FAST_REALTIME, redis={"socket_timeout_s": 1.0})
    keys = RealtimeKeys(settings.redis)
    received: list[bytes] = []
    subscriptions = 0

    async def on_message(raw: bytes) -> None:
        received.append(raw)

    async def on_subscribed() -> None:
        nonlocal subscriptions
        subscriptions += 1

    proxied = create_redis(settings.redis)
    subscriber = NodeSubscriber(proxied, keys, settings.realtime, "node-a", on_message, on_subscribed)
    loops = [asyncio.create_task(subscriber.run()), asyncio.create_task(subscriber.probe_loop())]
    try:
        await asyncio.wait_for(subscriber.subscribed.wait(), 10)
        await redis.publish(keys.node_channel("node-a"), b"user:amani 1 booking.updated {}")
        await eventually(lambda: received == [b"user:amani 1 booking.updated {}"], 5, "the first event")
        subscriber.check()

        relay.silence()
        await eventually(lambda: _deaf(subscriber), 5, "the node to report the silence")

        await eventually(lambda: subscriptions == 2 and not _deaf(subscriber), 15, "a new live subscription")
        await redis.publish(keys.node_channel("node-a"), b"user:amani 2 booking.updated {}")
        await eventually(lambda: len(received) == 2, 5, "the event published after the silence")
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await proxied.aclose()
    assert received[1] == b"user:amani 2 booking.updated {}"


def _deaf(subscriber: NodeSubscriber) -> bool:
    try:
        subscriber.check()
    except SubscriberDeaf:
        return True
    return False
