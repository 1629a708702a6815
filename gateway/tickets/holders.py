"""Who holds each ticket of an event, kept in Redis at issue time so a check-in answers without reading the ticket."""

from collections.abc import Sequence
from datetime import timedelta

import orjson
from beanie import PydanticObjectId
from redis.asyncio import Redis

from documents.ticket import Ticket
from gateway.redis_client import redis_key
from gateway.settings import RedisSettings

# The list outlives the event by a day: late exit scans and offline uploads still find it.
KEPT_AFTER_EVENT = timedelta(days=1)


def _holders_key(settings: RedisSettings, event_id: str) -> str:
    return redis_key(settings, "tickets", "holders", event_id)


async def remember_holders(redis: Redis, settings: RedisSettings, tickets: Sequence[Ticket]) -> None:
    """Record the holder and type name of freshly issued tickets (all of one event); both never change."""
    if not tickets:
        return
    key = _holders_key(settings, str(tickets[0].event_id))
    entries = {str(ticket.id): orjson.dumps([ticket.holder_name, ticket.type_name]) for ticket in tickets}
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(key, mapping=entries)  # type: ignore[arg-type]
        pipe.expireat(key, max(ticket.valid_until for ticket in tickets) + KEPT_AFTER_EVENT)
        await pipe.execute()


async def holder_of(redis: Redis, settings: RedisSettings, event_id: str, ticket_id: str) -> tuple[str, str] | None:
    """(holder name, ticket type name), from the list or, when Redis has lost it, from the ticket itself."""
    known = await redis.hget(_holders_key(settings, event_id), ticket_id)
    if known is not None:
        holder_name, type_name = orjson.loads(known)
        return holder_name, type_name
    ticket = await Ticket.get(PydanticObjectId(ticket_id))
    return (ticket.holder_name, ticket.type_name) if ticket else None


async def forget_holders(redis: Redis, settings: RedisSettings, tickets: Sequence[Ticket]) -> None:
    """Drop these tickets from their events' lists (their holder was erased); check-ins then read the ticket."""
    for ticket in tickets:
        await redis.hdel(_holders_key(settings, str(ticket.event_id)), str(ticket.id))
