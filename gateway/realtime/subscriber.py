"""This node's Redis subscription: events addressed to it, resubscribed after any outage, proven alive by a probe."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.events.keys import RealtimeKeys
from gateway.logs import get_logger
from gateway.settings import RealtimeSettings

log = get_logger("lango.realtime.subscriber")

PROBE = b"~probe"
_FIRST_BACKOFF_S = 0.05

MessageHandler = Callable[[bytes], Awaitable[None]]
SubscribedHandler = Callable[[], Awaitable[None]]


def stop_requested() -> bool:
    """Whether the running task was cancelled: redis-py sometimes swallows the CancelledError, so loops ask."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class SubscriberDeaf(Exception):
    """No probe came back through pub/sub recently: this node would miss events."""


class NodeSubscriber:
    """Listens on the node's channel; every (re)subscription runs `on_subscribed` to catch up on what was missed."""

    def __init__(
        self,
        redis: Redis,
        keys: RealtimeKeys,
        settings: RealtimeSettings,
        node_id: str,
        on_message: MessageHandler,
        on_subscribed: SubscribedHandler,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._channel = keys.node_channel(node_id)
        self._on_message = on_message
        self._on_subscribed = on_subscribed
        self._last_probe_at = 0.0
        self.subscribed = asyncio.Event()

    def check(self) -> None:
        """For /readyz: raise unless a probe made the round trip through Redis within the allowed silence."""
        silence = time.monotonic() - self._last_probe_at
        if silence > self._settings.selftest_max_silence_s:
            raise SubscriberDeaf(f"no pub/sub probe for {silence:.1f}s")

    async def run(self) -> None:
        backoff = _FIRST_BACKOFF_S
        while not stop_requested():
            try:
                await self._listen()
            except (RedisError, OSError, SubscriberDeaf) as error:
                if stop_requested():
                    return
                log.warning("redis subscription lost; resubscribing", error=str(error))
            if self.subscribed.is_set():
                backoff = _FIRST_BACKOFF_S
                self.subscribed.clear()
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self._settings.resubscribe_backoff_max_s)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            while not stop_requested():
                message = await pubsub.get_message(timeout=self._settings.selftest_interval_s)
                if message is None:
                    self._refuse_deafness()
                elif message["type"] == "subscribe":
                    # Also seen when the client reconnects by itself: whatever happened meanwhile is refetched.
                    self._last_probe_at = time.monotonic()
                    await self._on_subscribed()
                    self.subscribed.set()
                    log.info("redis subscription live", channel=self._channel)
                elif message["data"] == PROBE:
                    self._last_probe_at = time.monotonic()
                else:
                    await self._on_message(message["data"])
        finally:
            await pubsub.aclose()

    def _refuse_deafness(self) -> None:
        if time.monotonic() - self._last_probe_at > 2 * self._settings.selftest_max_silence_s:
            raise SubscriberDeaf("probes stopped arriving")

    async def probe_loop(self) -> None:
        """Publish a probe to this node's own channel; the listener records its arrival."""
        while not stop_requested():
            try:
                await self._redis.publish(self._channel, PROBE)
            except (RedisError, OSError) as error:
                log.debug("probe not published", error=str(error))
            await asyncio.sleep(self._settings.selftest_interval_s)
