"""Rate limits in Redis (moving windows of the `limits` library); exceeding one is a 429 with Retry-After."""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from gateway.problems import TooManyRequests
from gateway.settings import RateLimitSettings, RedisSettings


TOO_MANY_ATTEMPTS = "too many attempts; try again later"


class RateLimiter:
    """The configured limits by name (`login_failures_per_account`…), counted per identifier."""

    def __init__(self, redis: Redis, redis_settings: RedisSettings, limits: RateLimitSettings) -> None:
        if redis_settings.url is None:
            raise ValueError("redis.url is not set")
        storage = RedisStorage(
            "async+" + redis_settings.url.get_secret_value(),
            implementation="redispy",
            key_prefix=f"{redis_settings.namespace}:limits",
            connection_pool=redis.connection_pool,
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._limits: dict[str, RateLimitItem] = {
            name: parse(getattr(limits, name)) for name in type(limits).model_fields
        }

    async def hit(self, name: str, *identifiers: str, refusal: str = TOO_MANY_ATTEMPTS) -> None:
        """Count one event; refuse it with a 429 (saying `refusal`) when the window is already full."""
        limit = self._limits[name]
        if not await self._limiter.hit(limit, *identifiers):
            raise await self._refusal(limit, identifiers, refusal)

    async def hit_quietly(self, name: str, *identifiers: str) -> None:
        """Count one event without refusing it (failures are counted after the fact)."""
        await self._limiter.hit(self._limits[name], *identifiers)

    async def ensure_room(self, name: str, *identifiers: str) -> None:
        """Refuse with a 429 when the window is full, without counting anything."""
        limit = self._limits[name]
        if not await self._limiter.test(limit, *identifiers):
            raise await self._refusal(limit, identifiers, TOO_MANY_ATTEMPTS)

    async def clear(self, name: str, *identifiers: str) -> None:
        await self._limiter.clear(self._limits[name], *identifiers)

    async def _refusal(self, limit: RateLimitItem, identifiers: tuple[str, ...], detail: str) -> TooManyRequests:
        stats = await self._limiter.get_window_stats(limit, *identifiers)
        return TooManyRequests(math.ceil(stats.reset_time - time.time()), detail)
