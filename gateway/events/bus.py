"""The domain event bus: flows publish to a room; subscribers (delivery, push fallback, analytics) hear about it."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.events.keys import RealtimeKeys
from gateway.events.log import EventLog
from gateway.events.targets import checked_event_type, checked_target, user_of
from gateway.jsoncodec import dumps
from gateway.logs import get_logger
from gateway.settings import Settings

log = get_logger("lango.events")


class EventBusUnavailable(Exception):
    """Redis did not take the event: nothing was published; retry later."""


class PushNotice(BaseModel):
    """What an offline user's phone shows for an event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=120)
    body: str = Field(min_length=1, max_length=400)


class Published(NamedTuple):
    """What a publish answers and every subscriber hears (a tuple: built for every event, and cheaper than a
    frozen dataclass)."""

    target: str
    event_id: int
    type: str
    data: dict[str, Any]
    nodes_reached: int
    collapse_key: str | None
    push_burst_started: bool


Subscriber = Callable[[Published], Awaitable[None]]


class EventBus:
    """One per process; it holds no sockets, so a worker publishes exactly as a gateway node does."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.keys = RealtimeKeys(settings.redis)
        self.log = EventLog(redis, self.keys, settings.realtime)
        self._subscribers: list[Subscriber] = []

    async def close(self) -> None:
        """Close the publishing connection; the Redis client itself belongs to whoever passed it in."""
        await self.log.close()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    async def publish(
        self,
        target: str,
        event_type: str,
        data: dict[str, Any],
        *,
        collapse_key: str | None = None,
        push: PushNotice | None = None,
    ) -> Published:
        """Give the event its id, keep it for recovery, deliver it on every node; push it if its user is offline.

        `push` is what an offline user's phone shows; events without it wait in the history for the next connect.
        `collapse_key` (default: the event type) groups a burst into one push showing the latest event.
        """
        checked_target(target)
        checked_event_type(event_type)
        user_id = user_of(target)
        collapse = collapse_key or event_type
        pending_push_key = self.keys.pending_push(user_id, collapse) if push and user_id else None
        tail = dumps({"room": target, "type": event_type, "ts": datetime.now(UTC), "data": data})[1:]
        push_payload = dumps(push.model_dump()) if push else b"null"
        try:
            event_id, nodes_reached, push_burst_started = await self.log.append(
                target, event_type, tail, pending_push_key, push_payload
            )
        except RedisError as error:
            raise EventBusUnavailable(f"event {event_type} to {target} not published: {error}") from error
        published = Published(
            target=target,
            event_id=event_id,
            type=event_type,
            data=data,
            nodes_reached=nodes_reached,
            collapse_key=collapse if pending_push_key else None,
            push_burst_started=bool(push_burst_started),
        )
        for subscriber in self._subscribers:
            try:
                await subscriber(published)
            except Exception:
                # The event is already kept and delivered; one failing subscriber must not fail the flow.
                log.exception("event subscriber failed", subscriber=getattr(subscriber, "__qualname__", "?"))
        return published
