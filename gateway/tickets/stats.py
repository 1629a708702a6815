"""Live door statistics of an event: Redis hash counters moved atomically per check-in, with a version that moves
with them, so whoever holds two readings knows which is newer."""

from typing import Any

from aiohttp import web

from gateway.redis_client import redis_key
from gateway.state import REDIS, SETTINGS


def _stats_key(app: web.Application, event_id: str) -> str:
    return redis_key(app[SETTINGS].redis, "tickets", "stats", event_id)


async def count_entry(app: web.Application, event_id: str, ticket_type_id: str, gate: str) -> dict[str, Any]:
    """Count one admission and answer the event's statistics as they stand right after it."""
    key = _stats_key(app, event_id)
    async with app[REDIS].pipeline(transaction=True) as pipe:
        pipe.hincrby(key, "admitted", 1).hincrby(key, "inside", 1).hincrby(key, "version", 1)
        pipe.hincrby(key, f"type:{ticket_type_id}", 1).hincrby(key, f"gate:{gate}", 1).hgetall(key)
        *_, counters = await pipe.execute()
    return stats_view(counters)


async def count_exit(app: web.Application, event_id: str) -> dict[str, Any]:
    key = _stats_key(app, event_id)
    async with app[REDIS].pipeline(transaction=True) as pipe:
        *_, counters = await pipe.hincrby(key, "inside", -1).hincrby(key, "version", 1).hgetall(key).execute()
    return stats_view(counters)


async def read_stats(app: web.Application, event_id: str) -> dict[str, Any]:
    return stats_view(await app[REDIS].hgetall(_stats_key(app, event_id)))


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
