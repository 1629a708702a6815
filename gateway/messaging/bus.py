"""The message bus: flows publish to a room; subscribers (delivery, push fallback, analytics) hear about it."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.jsoncodec import dumps
from gateway.logs import get_logger
from gateway.messaging.keys import RealtimeKeys
from gateway.messaging.log import MessageLog
from gateway.messaging.targets import checked_message_type, checked_target, user_of
from gateway.messaging.transient import TransientSignals
from gateway.metrics import EVENTS_PUBLISHED
from gateway.settings import Settings

log = get_logger("lango.events")
# An error names this many of the events it failed, so a failed burst of thousands stays one readable line.
_FAILURES_NAMED = 5


class BusUnavailable(Exception):
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


class Outgoing(NamedTuple):
    """One event of a `publish_many`: `publish`'s arguments."""

    target: str
    type: str
    data: dict[str, Any]
    collapse_key: str | None = None
    push: PushNotice | None = None


Subscriber = Callable[[Published], Awaitable[None]]


class MessageBus:
    """One per process; it holds no sockets, so a worker publishes exactly as a gateway node does."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.keys = RealtimeKeys(settings.redis)
        self.log = MessageLog(redis, self.keys, settings.realtime)
        self.transient = TransientSignals(redis, self.keys)
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
        event = _checked(Outgoing(target, event_type, data, collapse_key, push))
        pending_push_key, append = self._append(event, datetime.now(UTC))
        try:
            result = await append
        except RedisError as error:
            raise _unavailable([(event, error)]) from error
        published = _published(event, pending_push_key, result)
        await self._tell_subscribers(published)
        return published

    async def publish_many(self, events: Sequence[Outgoing]) -> list[Published]:
        """Publish several events in one round trip to Redis, each as `publish` would, answered in order.

        All are checked before any is sent. Every event Redis took reaches the subscribers even when another
        did not; then BusUnavailable names the ones not published."""
        for event in events:
            _checked(event)
        ts = datetime.now(UTC)
        appends = [self._append(event, ts) for event in events]
        published: list[Published] = []
        failures: list[tuple[Outgoing, RedisError]] = []
        for event, (pending_push_key, append) in zip(events, appends, strict=True):
            try:
                published.append(_published(event, pending_push_key, await append))
            except RedisError as error:
                failures.append((event, error))
        for one in published:
            await self._tell_subscribers(one)
        if failures:
            raise _unavailable(failures) from failures[0][1]
        return published

    def _append(self, event: Outgoing, ts: datetime) -> "tuple[str | None, asyncio.Future[list[int]]]":
        """Join this loop turn's batch of appends; answers the event's pending push key (if any) and the result."""
        user_id = user_of(event.target)
        push = event.push
        collapse = event.collapse_key or event.type
        pending_push_key = self.keys.pending_push(user_id, collapse) if push and user_id else None
        tail = dumps({"room": event.target, "type": event.type, "ts": ts, "data": event.data})[1:]
        push_notice = dumps(push.model_dump()) if pending_push_key else b"null"
        return pending_push_key, self.log.append(event.target, event.type, tail, pending_push_key, push_notice)

    async def _tell_subscribers(self, published: Published) -> None:
        """Called once for each event published, so it is also where they are counted."""
        EVENTS_PUBLISHED.labels(published.type).inc()
        for subscriber in self._subscribers:
            try:
                await subscriber(published)
            except Exception:
                # The event is already kept and delivered; one failing subscriber must not fail the flow.
                log.exception("event subscriber failed", subscriber=getattr(subscriber, "__qualname__", "?"))


def _checked(event: Outgoing) -> Outgoing:
    checked_target(event.target)
    checked_message_type(event.type)
    return event


def _published(event: Outgoing, pending_push_key: str | None, result: list[int]) -> Published:
    event_id, nodes_reached, push_burst_started = result
    return Published(
        target=event.target,
        event_id=event_id,
        type=event.type,
        data=event.data,
        nodes_reached=nodes_reached,
        collapse_key=(event.collapse_key or event.type) if pending_push_key else None,
        push_burst_started=bool(push_burst_started),
    )


def _unavailable(failures: list[tuple[Outgoing, RedisError]]) -> BusUnavailable:
    named = ", ".join(f"{event.type} to {event.target}" for event, _ in failures[:_FAILURES_NAMED])
    more = f" and {len(failures) - _FAILURES_NAMED} more" if len(failures) > _FAILURES_NAMED else ""
    return BusUnavailable(f"event {named}{more} not published: {failures[0][1]}")
