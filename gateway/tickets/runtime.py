"""What the tickets flows keep per process: the scan contexts cache and the publisher of door statistics."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from documents.hosted_event import EventStatus, HostedEvent
from gateway.events.bus import EventBus, EventBusUnavailable
from gateway.events.catalogue import CHECKIN_STATS
from gateway.events.targets import scanners_room, user_room
from gateway.events_hosting.keys import public_key
from gateway.logs import get_logger

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


class StatsPublisher:
    """Coalesces door statistics per room: the first change of a burst is pushed after `interval`, carrying the
    latest counters, so 200 check-ins a second cost each room a handful of events instead of 200."""

    def __init__(self, bus: EventBus, scanners_interval_s: float) -> None:
        self._bus = bus
        self._intervals = {"scanners": scanners_interval_s, "host": HOST_STATS_INTERVAL_S}
        self._pending: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def publish(self, event_id: str, host_id: str, stats: dict[str, Any]) -> None:
        data = {"event_id": event_id, **stats}
        for room, interval in ((scanners_room(event_id), self._intervals["scanners"]),
                               (user_room(host_id), self._intervals["host"])):  # fmt: skip
            first_of_burst = room not in self._pending
            self._pending[room] = data
            if first_of_burst:
                task = asyncio.create_task(self._publish_later(room, interval))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _publish_later(self, room: str, interval: float) -> None:
        await asyncio.sleep(interval)
        data = self._pending.pop(room)
        try:
            await self._bus.publish(room, CHECKIN_STATS, data)
        except EventBusUnavailable as error:
            # The counters are already moved; the next check-in carries them again.
            log.warning("checkin.stats not published", room=room, error=str(error))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True)
class TicketsRuntime:
    contexts: ScanContexts
    stats: StatsPublisher

