"""Rate limits in Redis (moving windows of the `limits` library); exceeding one is a 429 with Retry-After."""

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from gateway.problems import TooManyRequests
from gateway.redis_client import connect_redis
from gateway.settings import RateLimitSettings, RedisSettings

TOO_MANY_ATTEMPTS = "too many attempts; try again later"


class RateLimiter:
    """The configured limits by name (`login_failures_per_account`…), counted per identifier.

    A limit may have several windows ("5/15 minutes; 20/day"): an event counts in each, and any full one refuses it.
    Each limit keeps its own counts, so two limits with the same window never share a budget.
    """

    def __init__(self, redis: Redis, redis_settings: RedisSettings, limits: RateLimitSettings) -> None:
        if redis_settings.url is None:
            raise ValueError("redis.url is not set")
        url, prefix = redis_settings.url.get_secret_value(), f"{redis_settings.namespace}:limits"
        self._cluster: RedisClusterStorage | None = None
        storage: RedisStorage
        if redis_settings.cluster:
            # A window is one key, counted by one script: any slot will do. The library keeps a client of its own.
            scheme, _, address = url.partition("://")
            self._cluster = storage = RedisClusterStorage(
                f"async+redis+cluster://{address}",
                implementation="redispy",
                key_prefix=prefix,
                ssl=scheme == "rediss",
                socket_timeout=redis_settings.socket_timeout_s,
                socket_connect_timeout=redis_settings.socket_timeout_s,
            )
        else:
            storage = RedisStorage(
                "async+" + url, implementation="redispy", key_prefix=prefix, connection_pool=redis.connection_pool
            )
        self._limiter = MovingWindowRateLimiter(storage)
        self._limits: dict[str, list[RateLimitItem]] = {
            name: parse_many(getattr(limits, name)) for name in type(limits).model_fields
        }

    async def hit(
        self,
        name: str,
        *identifiers: str,
        refusal: str = TOO_MANY_ATTEMPTS,
        problem: type[TooManyRequests] = TooManyRequests,
    ) -> None:
        """Count one event; refuse it with `problem` (a 429 saying `refusal`) when a window is already full.

        Counting and checking are one atomic step in Redis, so concurrent events cannot all pass a nearly full window.
        """
        for window in self._limits[name]:
            if not await self._limiter.hit(window, name, *identifiers):
                stats = await self._limiter.get_window_stats(window, name, *identifiers)
                raise problem(math.ceil(stats.reset_time - time.time()), refusal)

    async def has_room(self, name: str, *identifiers: str) -> bool:
        """Whether one more event would be let through, without counting one."""
        for window in self._limits[name]:
            if not await self._limiter.test(window, name, *identifiers):
                return False
        return True

    async def clear(self, name: str, *identifiers: str) -> None:
        for window in self._limits[name]:
            await self._limiter.clear(window, name, *identifiers)

    async def open(self) -> None:
        """On a cluster, read the slot map before the first request counts: the library's client loads it lazily, and
        concurrent first calls each reload it, closing connections the others are using."""
        if self._cluster is not None:
            await connect_redis(self._cluster.bridge.storage)

    async def close(self) -> None:
        """Close the cluster client the library opened (on one Redis the limiter borrows the process's pool)."""
        if self._cluster is not None:
            await self._cluster.bridge.storage.aclose()
