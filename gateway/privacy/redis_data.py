"""The person in Redis: their event history, sequence and presence, pending pushes, rate-limit counts, caches, queued
jobs and analytics events, and anything else a feature keeps there.

Rather than each feature listing its keys (and one forgetting), the erasure walks the deployment's keys once: a key
whose name holds one of the person's identifiers goes; in any other, the entries holding one go. It reads every key
of the namespace, which is acceptable for a job that runs once per erased account; the walk is batched by SCAN and
never blocks Redis."""

from redis.asyncio import Redis

from gateway.privacy.registry import DataSubject, PersonalData
from gateway.services import Services

SCAN_BATCH = 500
# Streams (event histories) are read this many entries at a time.
STREAM_PAGE = 500


def _holds(value: bytes | str, needles: list[bytes]) -> bool:
    folded = (value if isinstance(value, bytes) else value.encode()).lower()
    return any(needle in folded for needle in needles)


async def scrub_key(redis: Redis, key: bytes | str, needles: list[bytes]) -> None:
    """Remove from `key` (the key itself, for a string) whatever holds one of `needles` (lower case)."""
    kind = (await redis.type(key)).decode()
    if kind == "string":
        value = await redis.get(key)
        if value is not None and _holds(value, needles):
            await redis.delete(key)
    elif kind == "list":
        for item in {item for item in await redis.lrange(key, 0, -1) if _holds(item, needles)}:
            await redis.lrem(key, 0, item)
    elif kind == "set":
        if members := [member for member in await redis.smembers(key) if _holds(member, needles)]:
            await redis.srem(key, *members)
    elif kind == "zset":
        if members := [member for member in await redis.zrange(key, 0, -1) if _holds(member, needles)]:
            await redis.zrem(key, *members)
    elif kind == "hash":
        entries = await redis.hgetall(key)
        if fields := [name for name, value in entries.items() if _holds(name, needles) or _holds(value, needles)]:
            await redis.hdel(key, *fields)
    elif kind == "stream":
        await _scrub_stream(redis, key, needles)


async def _scrub_stream(redis: Redis, key: bytes | str, needles: list[bytes]) -> None:
    start = "-"
    while page := await redis.xrange(key, min=start, count=STREAM_PAGE):
        doomed = [
            entry_id
            for entry_id, fields in page
            if any(_holds(k, needles) or _holds(v, needles) for k, v in fields.items())
        ]
        if doomed:
            await redis.xdel(key, *doomed)
        if len(page) < STREAM_PAGE:
            return
        start = "(" + page[-1][0].decode()


async def _erase_from_redis(services: Services, subject: DataSubject) -> None:
    redis = services.redis
    needles = [identifier.lower().encode() for identifier in subject.identifiers]
    namespace = services.settings.redis.namespace
    # The deployment's own keys and its job queue's (SAQ prefixes the queue's name, which starts with the namespace);
    # another deployment sharing the Redis is left alone.
    for pattern in (f"{namespace}:*", f"saq:{namespace}:*"):
        async for key in redis.scan_iter(match=pattern, count=SCAN_BATCH):
            if _holds(key, needles):
                await redis.delete(key)
            else:
                await scrub_key(redis, key, needles)


REDIS = PersonalData(
    "redis",
    "event histories, presence, pending pushes, rate-limit counts, caches, queued jobs and analytics events",
    erase=_erase_from_redis,
)
