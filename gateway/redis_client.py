"""The one Redis client of a process (one server, or a Redis Cluster), and the key naming every module shares.

On a cluster (`redis.cluster = true`, `redis.url` naming any one of its nodes) every key that a script touches
together with others carries a hash tag, so the script's keys live in one slot. Rooms are spread over
`redis.cluster_partitions` partitions, each one hash tag (`{p17}`): a room's keys, and the per-partition copies of
what every event needs beside them (the live nodes, the nodes' channels), share their partition's tag."""

import zlib

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from gateway.logs import get_logger
from gateway.settings import RedisSettings

log = get_logger("lango.redis")


def create_redis(settings: RedisSettings) -> Redis:
    if settings.url is None:
        raise ValueError("redis.url is not set")
    options = {
        "max_connections": settings.max_connections,
        "socket_timeout": settings.socket_timeout_s,
        "socket_connect_timeout": settings.socket_timeout_s,
        "health_check_interval": 30,
    }
    if settings.cluster:
        return RedisCluster.from_url(settings.url.get_secret_value(), **options)  # type: ignore[return-value]
    return Redis.from_url(settings.url.get_secret_value(), **options)


async def connect_redis(redis: Redis) -> None:
    """Read a cluster's slot map before the first commands: redis-py's cluster client, asked by many callers at once
    before it knows the map, may fail some of them. A cluster out of reach does not stop the process from starting,
    as one Redis out of reach does not: the first command tries again."""
    if isinstance(redis, RedisCluster):
        try:
            await redis.initialize()
        except (RedisError, RedisClusterException, OSError) as error:
            log.warning("redis cluster unreachable at start", error=str(error))


def redis_key(settings: RedisSettings, *parts: str) -> str:
    """A namespaced key or channel, so several deployments can share one Redis."""
    return ":".join((settings.namespace, *parts))


def partition_tag(settings: RedisSettings, name: str) -> str:
    """The hash tag of the partition `name` (a room, a session id) falls in, with its separator; '' on one Redis."""
    if not settings.cluster:
        return ""
    return "{p%d}:" % (zlib.crc32(name.encode()) % settings.cluster_partitions)


def partition_tags(settings: RedisSettings) -> list[str]:
    """Every partition's tag: a key or channel each partition holds a copy of ([''] on one Redis)."""
    if not settings.cluster:
        return [""]
    return ["{p%d}:" % partition for partition in range(settings.cluster_partitions)]


def tag_of(key: str) -> str:
    """The partition tag (with its separator) a key was built with; '' for none."""
    start = key.find("{")
    return key[start : key.index("}", start) + 2] if start >= 0 else ""


def publishing_script(source: str, cluster: bool) -> str:
    """A script that publishes to nodes' channels: PUBLISH on one Redis; on a Redis Cluster SPUBLISH, which the
    shard owning the channel's slot delivers to its own subscribers only, where PUBLISH is copied to every node."""
    return source.replace("$PUBLISH", "SPUBLISH" if cluster else "PUBLISH")
