"""This node's Redis subscription: events addressed to it, resubscribed after any outage, proven alive by a probe."""

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Connection, Redis
from redis.exceptions import RedisError

from gateway.logs import get_logger
from gateway.messaging.keys import RealtimeKeys
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
    """Listens on the node's channel; every (re)subscription runs `on_subscribed` to catch up on what was missed.

    The subscription has a connection of its own, read reply by reply: redis-py's PubSub wrapper costs a timeout
    scope, a retry wrapper and a health check per message, a fifth of a busy node's time. Silence is watched by
    the probe loop instead, which drops the connection when probes stop arriving."""

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
        self._connection: Connection | None = None
        # When the current connection last heard anything (or was opened): what deafness is measured from.
        self._heard_at = 0.0
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
            except (RedisError, OSError) as error:
                if stop_requested():
                    return
                log.warning("redis subscription lost; resubscribing", error=str(error))
            if self.subscribed.is_set():
                backoff = _FIRST_BACKOFF_S
                self.subscribed.clear()
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self._settings.resubscribe_backoff_max_s)

    async def _listen(self) -> None:
        self._connection = connection = self._new_connection()
        self._heard_at = time.monotonic()
        try:
            await connection.connect()
            await connection.send_command("SUBSCRIBE", self._channel)
            while True:
                kind, _, data = await connection.read_response(timeout=math.inf)
                if kind == b"message":
                    if data == PROBE:
                        self._last_probe_at = self._heard_at = time.monotonic()
                    else:
                        await self._on_message(data)
                elif kind == b"subscribe":
                    self._last_probe_at = self._heard_at = time.monotonic()
                    await self._on_subscribed()
                    self.subscribed.set()
                    log.info("redis subscription live", channel=self._channel)
        finally:
            self._connection = None
            await connection.disconnect(nowait=True)

    def _new_connection(self) -> Connection:
        """A connection like the client's (address, TLS, credentials) speaking RESP2, where messages are plain replies."""
        pool = self._redis.connection_pool
        options = {**pool.connection_kwargs, "protocol": 2, "health_check_interval": 0}
        return pool.connection_class(**options)  # type: ignore[no-any-return]

    async def probe_loop(self) -> None:
        """Publish a probe to this node's own channel; the listener records its arrival; a deaf listener is cut off."""
        while not stop_requested():
            try:
                await self._redis.publish(self._channel, PROBE)
            except (RedisError, OSError) as error:
                log.debug("probe not published", error=str(error))
            await asyncio.sleep(self._settings.selftest_interval_s)
            await self._drop_if_deaf()

    async def _drop_if_deaf(self) -> None:
        """A connection that went silent without closing (a lost peer, a stuck proxy) is dropped; `run` resubscribes."""
        connection = self._connection
        silence = time.monotonic() - self._heard_at
        if connection is not None and silence > 2 * self._settings.selftest_max_silence_s:
            log.warning("no probe through pub/sub; dropping the subscription", silence_s=round(silence, 1))
            await connection.disconnect(nowait=True)
