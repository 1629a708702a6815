"""Sessions revoked before their access tokens expire: a short-lived Redis mark every request checks."""

from datetime import timedelta

from redis.asyncio import Redis

from gateway.redis_client import redis_key
from gateway.settings import RedisSettings


def _revoked_key(settings: RedisSettings, session_id: str) -> str:
    return redis_key(settings, "auth", "revoked-session", session_id)


async def mark_sessions_revoked(redis: Redis, settings: RedisSettings, session_ids: list[str], lifetime: timedelta) -> None:
    """Remember the sessions for as long as an access token minted for them can live."""
    if not session_ids:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for session_id in session_ids:
            pipe.set(_revoked_key(settings, session_id), b"1", ex=lifetime)
        await pipe.execute()


async def is_session_revoked(redis: Redis, settings: RedisSettings, session_id: str) -> bool:
    return bool(await redis.exists(_revoked_key(settings, session_id)))
