"""The one Redis client of a process, and the key naming every module shares."""

from redis.asyncio import Redis

from gateway.settings import RedisSettings


def create_redis(settings: RedisSettings) -> Redis:
    if settings.url is None:
        raise ValueError("redis.url is not set")
    return Redis.from_url(
        settings.url.get_secret_value(),
        max_connections=settings.max_connections,
        socket_timeout=settings.socket_timeout_s,
        socket_connect_timeout=settings.socket_timeout_s,
        health_check_interval=30,
    )


def redis_key(settings: RedisSettings, *parts: str) -> str:
    """A namespaced key or channel, so several deployments can share one Redis."""
    return ":".join((settings.namespace, *parts))
