"""Live door statistics of an event: Redis hash counters moved atomically per check-in, with a version that moves
with them, so whoever holds two readings knows which is newer."""

from typing import Any

from redis.asyncio import Redis

from gateway.redis_client import redis_key
from gateway.settings import RedisSettings


class DoorCounters:
    """Each event's counters in one Redis hash; every change and its version bump are one MULTI."""

    def __init__(self, redis: Redis, settings: RedisSettings) -> None:
        self._redis = redis
        self._prefix = redis_key(settings, "tickets", "stats", "")

    async def count_entry(self, event_id: str, ticket_type_id: str, gate: str) -> dict[str, Any]:
        """Count one admission and answer the event's statistics as they stand right after it."""
        key = self._prefix + event_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "admitted", 1).hincrby(key, "inside", 1).hincrby(key, "version", 1)
            pipe.hincrby(key, f"type:{ticket_type_id}", 1).hincrby(key, f"gate:{gate}", 1).hgetall(key)
            *_, counters = await pipe.execute()
        return stats_view(counters)

    async def count_exit(self, event_id: str) -> dict[str, Any]:
        key = self._prefix + event_id
        async with self._redis.pipeline(transaction=True) as pipe:
            *_, counters = await pipe.hincrby(key, "inside", -1).hincrby(key, "version", 1).hgetall(key).execute()
        return stats_view(counters)

    async def read(self, event_id: str) -> dict[str, Any]:
        return stats_view(await self._redis.hgetall(self._prefix + event_id))


def stats_view(counters: dict[bytes, bytes]) -> dict[str, Any]:
    view: dict[str, Any] = {"admitted": 0, "inside": 0, "by_ticket_type": {}, "by_gate": {}, "version": 0}
    for raw_field, raw_value in counters.items():
        field, value = raw_field.decode(), int(raw_value)
        kind, _, name = field.partition(":")
        if kind == "type":
            view["by_ticket_type"][name] = value
        elif kind == "gate":
            view["by_gate"][name] = value
        else:
            view[field] = value
    return view
