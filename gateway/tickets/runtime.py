"""What the tickets flows keep per process: the scan contexts cache and the publisher of door statistics."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from redis.exceptions import RedisError

from documents.hosted_event import EventStatus, HostedEvent
from gateway.hosted_events.keys import public_key
from gateway.logs import get_logger
from gateway.messaging.bus import BusUnavailable, MessageBus
from gateway.messaging.catalogue import CHECKIN_STATS
from gateway.messaging.targets import scanners_room, user_room
from gateway.tickets.stats import DoorCounters

# The host's user room keeps their payments and bookings for recovery: door statistics reach it at most this often.
HOST_STATS_INTERVAL_S = 1.0
log = get_logger("lango.tickets")


@dataclass(frozen=True)
class ScanContext:
    """What a scan needs to know about its event, read once per `scan_context_ttl_s` instead of on every scan."""

    event_id: str
    host_id: str
    scanner_ids: frozenset[str]
    reentry_allowed: bool
    cancelled: bool
    public_keys: dict[int, Ed25519PublicKey]
    loaded_at: float

    def may_scan(self, user_id: str, roles: frozenset[str]) -> bool:
        return "admin" in roles or user_id == self.host_id or ("scanner" in roles and user_id in self.scanner_ids)


class ScanContexts:
    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._contexts: dict[str, ScanContext] = {}

    async def get(self, event_id: str) -> ScanContext | None:
        known = self._contexts.get(event_id)
        if known is not None and time.monotonic() - known.loaded_at < self._ttl_s:
            return known
        event = await HostedEvent.get(PydanticObjectId(event_id)) if ObjectId.is_valid(event_id) else None
        if event is None or event.status == EventStatus.DRAFT:
            return None
        context = ScanContext(
            event_id=event_id,
            host_id=event.host_id,
            scanner_ids=frozenset(event.scanner_ids),
            reentry_allowed=event.reentry_allowed,
            cancelled=event.status == EventStatus.CANCELLED,
            public_keys={key.kid: public_key(key.public_key) for key in event.keys},
            loaded_at=time.monotonic(),
        )
        self._contexts[event_id] = context
        return context

    def forget(self, event_id: str) -> None:
        self._contexts.pop(event_id, None)


StatsReader = Callable[[str], Awaitable[dict[str, Any]]]


class StatsPublisher:
    """Coalesces door statistics per room: the first change of a burst is pushed after `interval`, carrying the
    latest counters, so 200 check-ins a second cost each room a handful of events instead of 200.

    Every node counts check-ins and pushes what it last saw, so a push from one node can follow a newer one from
    another. Each push carries the counters' `version`; a node never pushes a version older than one it knows, and
    after each push it reads the counters again and pushes once more if they moved meanwhile. So whichever node
    counted last, the last push of a room carries the final counters.
    """

    def __init__(self, bus: MessageBus, scanners_interval_s: float, read_stats: StatsReader) -> None:
        self._bus = bus
        self._read_stats = read_stats
        self._intervals = {"scanners": scanners_interval_s, "host": HOST_STATS_INTERVAL_S}
        self._pending: dict[str, dict[str, Any]] = {}
        # The highest version pushed to each room from this node.
        self._pushed: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def publish(self, event_id: str, host_id: str, stats: dict[str, Any]) -> None:
        data = {"event_id": event_id, **stats}
        for room, interval in ((scanners_room(event_id), self._intervals["scanners"]),
                               (user_room(host_id), self._intervals["host"])):  # fmt: skip
            self._push_later(room, interval, data)

    def _push_later(self, room: str, interval: float, data: dict[str, Any]) -> None:
        pending = self._pending.get(room)
        if pending is None:
            task = asyncio.create_task(self._publish_later(room, interval))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Scans answered concurrently can report their counters out of order: the newest reading wins.
        if pending is None or data["version"] > pending["version"]:
            self._pending[room] = data

    async def _publish_later(self, room: str, interval: float) -> None:
        await asyncio.sleep(interval)
        data = self._pending.pop(room)
        if data["version"] <= self._pushed.get(room, 0):
            return
        try:
            await self._bus.publish(room, CHECKIN_STATS, data)
        except BusUnavailable as error:
            # The counters are already moved; the next check-in carries them again.
            log.warning("checkin.stats not published", room=room, error=str(error))
            return
        self._pushed[room] = data["version"]
        # Another node may have counted a check-in after this push's counters were read, and pushed before this
        # push went out: read them again, so a newer version never ends up behind this one.
        try:
            latest = {"event_id": data["event_id"], **await self._read_stats(data["event_id"])}
        except RedisError as error:
            log.warning("checkin.stats not read again", room=room, error=str(error))
            return
        if latest["version"] > data["version"]:
            self._push_later(room, interval, latest)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True)
class TicketsRuntime:
    """What the door flows keep per process: events' scan contexts, the door counters and their publisher."""

    contexts: ScanContexts
    stats: StatsPublisher
    counters: DoorCounters

