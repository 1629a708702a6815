"""A subscription whose network path goes silent without closing: the node reports not-ready, then resubscribes."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from gateway.events.keys import RealtimeKeys
from gateway.realtime.subscriber import NodeSubscriber, SubscriberDeaf
from gateway.redis_client import create_redis
from tests.conftest import make_settings
from tests.realtime.conftest import FAST_REALTIME, eventually


class SilencingProxy:
    """A TCP relay to Redis; `silence()` stops every relay open now, as a lost peer would, and leaves it open."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._open: list[asyncio.Event] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def silence(self) -> None:
        for flowing in self._open:
            flowing.clear()
        self._open = []

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        self._writers += [writer, upstream_writer]
        flowing = asyncio.Event()
        flowing.set()
        self._open.append(flowing)
        await asyncio.gather(self._pipe(reader, upstream_writer, flowing), self._pipe(upstream_reader, writer, flowing))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if flowing.is_set():
                    writer.write(data)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[tuple[SilencingProxy, str]]:
    parts = urlsplit(redis_url)
    relay = SilencingProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    port = await relay.start()
    yield relay, parts._replace(netloc=f"127.0.0.1:{port}").geturl()
    await relay.close()


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
