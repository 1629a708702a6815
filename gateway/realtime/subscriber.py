"""This node's Redis subscription: events addressed to it, resubscribed after any outage, proven alive by a probe."""

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Connection, ConnectionPool, Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError

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


class _Listener:
    """One subscribed connection and the channels it listens on; on a Redis Cluster one per shard."""

    __slots__ = ("connection", "channels", "confirmed", "heard_at", "probe_at")

    def __init__(self, connection: Connection, channels: list[str]) -> None:
        self.connection = connection
        self.channels = channels
        self.confirmed = 0
        # When the connection last heard anything (or was opened): what deafness is measured from.
        self.heard_at = time.monotonic()
        self.probe_at = time.monotonic()


class NodeSubscriber:
    """Listens on the node's channel; every (re)subscription runs `on_subscribed` to catch up on what was missed.

    The subscription has a connection of its own, read reply by reply: redis-py's PubSub wrapper costs a timeout
    scope, a retry wrapper and a health check per message, a fifth of a busy node's time. Silence is watched by
    the probe loop instead, which drops the connection when probes stop arriving.

    On a Redis Cluster the node has a channel in every partition, subscribed with SSUBSCRIBE on a connection to
    each shard that owns some of them; losing any of those connections resubscribes all of them, after reading the
    slot map again (a failover moves a shard's slots to its promoted replica)."""

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
        self._cluster = redis if isinstance(redis, RedisCluster) else None
        self._channels = [keys.node_channel(node_id, tag) for tag in keys.partitions()]
        self._on_message = on_message
        self._on_subscribed = on_subscribed
        self._listeners: list[_Listener] = []
        # One channel per listener, that the probe loop publishes to.
        self._probed: list[str] = self._channels[:1]
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
            except (RedisError, RedisClusterException, OSError) as error:
                if stop_requested():
                    return
                log.warning("redis subscription lost; resubscribing", error=str(error))
            if self.subscribed.is_set():
                backoff = _FIRST_BACKOFF_S
                self.subscribed.clear()
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self._settings.resubscribe_backoff_max_s)

    async def _listen(self) -> None:
        self._listeners = listeners = await self._plan()
        try:
            for listener in listeners:
                connection = listener.connection
                await connection.connect()
                if self._cluster is None:
                    await connection.send_command("SUBSCRIBE", *listener.channels)
                else:
                    # SSUBSCRIBE takes channels of one slot at a time; they all go in one write.
                    commands = [("SSUBSCRIBE", channel) for channel in listener.channels]
                    await connection.send_packed_command(connection.pack_commands(commands))
            self._probed = [listener.channels[0] for listener in listeners]
            readers = [asyncio.create_task(self._read(listener)) for listener in listeners]
            try:
                done, _ = await asyncio.wait(readers, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for reader in readers:
                    reader.cancel()
                await asyncio.gather(*readers, return_exceptions=True)
            for reader in done:
                reader.result()
        finally:
            self._listeners = []
            for listener in listeners:
                await listener.connection.disconnect(nowait=True)

    async def _plan(self) -> list[_Listener]:
        """The node's channels grouped by the connection that subscribes to them."""
        if self._cluster is None:
            return [_Listener(self._new_connection(self._redis.connection_pool), self._channels)]
        await self._cluster.initialize()
        await self._cluster.nodes_manager.initialize()
        by_shard: dict[str, tuple[ClusterNode, list[str]]] = {}
        for channel in self._channels:
            node = self._cluster.nodes_manager.get_node_from_slot(key_slot(channel.encode()))
            by_shard.setdefault(node.name, (node, []))[1].append(channel)
        return [_Listener(self._new_connection(node), channels) for node, channels in by_shard.values()]

    async def _read(self, listener: _Listener) -> None:
        connection, expected = listener.connection, len(listener.channels)
        while True:
            kind, _, data = await connection.read_response(timeout=math.inf)
            if kind in (b"message", b"smessage"):
                if data == PROBE:
                    listener.probe_at = listener.heard_at = time.monotonic()
                    self._last_probe_at = min(other.probe_at for other in self._listeners)
                else:
                    await self._on_message(data)
            elif kind in (b"subscribe", b"ssubscribe"):
                listener.confirmed += 1
                listener.probe_at = listener.heard_at = time.monotonic()
                if listener.confirmed == expected and all(
                    other.confirmed == len(other.channels) for other in self._listeners
                ):
                    self._last_probe_at = time.monotonic()
                    await self._on_subscribed()
                    self.subscribed.set()
                    log.info("redis subscription live", channels=len(self._channels))
            elif kind == b"sunsubscribe":
                # The shard gave up a slot of this node's channels (a failover, a resharding).
                raise RedisConnectionError("a sharded channel moved to another shard")

    def _new_connection(self, source: ConnectionPool | ClusterNode) -> Connection:
        """A connection like the client's (address, TLS, credentials) speaking RESP2, where messages are plain replies."""
        options = {**source.connection_kwargs, "protocol": 2, "health_check_interval": 0}
        return source.connection_class(**options)  # type: ignore[no-any-return]

    async def probe_loop(self) -> None:
        """Publish a probe to this node's own channels; the listeners record their arrival; a deaf one is cut off."""
        while not stop_requested():
            for channel in self._probed:
                try:
                    if self._cluster is not None:
                        await self._cluster.spublish(channel, PROBE)
                    else:
                        await self._redis.publish(channel, PROBE)
                except (RedisError, RedisClusterException, OSError) as error:
                    log.debug("probe not published", error=str(error))
            await asyncio.sleep(self._settings.selftest_interval_s)
            await self._drop_if_deaf()

    async def _drop_if_deaf(self) -> None:
        """A connection that went silent without closing (a lost peer, a stuck proxy) is dropped; `run` resubscribes."""
        for listener in list(self._listeners):
            silence = time.monotonic() - listener.heard_at
            if silence > 2 * self._settings.selftest_max_silence_s:
                log.warning("no probe through pub/sub; dropping the subscription", silence_s=round(silence, 1))
                await listener.connection.disconnect(nowait=True)
