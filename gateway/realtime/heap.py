"""Keeping the collector's full passes off the delivery path: the long-lived socket heap is frozen as it grows."""

import asyncio
import gc
from collections.abc import Callable
from typing import Literal

from gateway.settings import RealtimeSettings, Settings

# Freezing pays off once enough new sockets (and their engine.io objects) have settled into the old generation.
SETTLE_MIN_NEW_SOCKETS = 200
SETTLE_GROWTH = 0.10


def freeze_startup_heap(settings: Settings) -> None:
    """Move everything alive after start-up out of the collector's reach: full passes then skip it."""
    if settings.realtime.gc_freeze:
        gc.collect()
        gc.freeze()


class HeapSettler:
    """Decides when to freeze the heap again (sockets grew, or a burst settled) or thaw it (most are gone)."""

    def __init__(self, sockets_at_start: int = 0) -> None:
        self.frozen_with = sockets_at_start
        self._last_seen = sockets_at_start

    def observe(self, sockets: int) -> Literal["freeze", "unfreeze"] | None:
        settled = sockets == self._last_seen
        self._last_seen = sockets
        grew = sockets - self.frozen_with
        if grew >= max(SETTLE_MIN_NEW_SOCKETS, self.frozen_with * SETTLE_GROWTH) or (settled and grew > 0):
            self.frozen_with = sockets
            return "freeze"
        # Closed sockets frozen with cycles are only reclaimed once thawed: thaw when half of them went.
        if sockets < self.frozen_with // 2:
            self.frozen_with = sockets
            return "unfreeze"
        return None


async def settle_heap_loop(settings: RealtimeSettings, sockets: Callable[[], int]) -> None:
    """Without this, a full pass over 10,000 sockets' objects stalls delivery for about a second."""
    settler = HeapSettler(sockets())
    while True:
        await asyncio.sleep(settings.gc_settle_interval_s)
        settle(settler.observe(sockets()))


def settle(decision: Literal["freeze", "unfreeze"] | None) -> None:
    if decision == "freeze":
        gc.freeze()
    elif decision == "unfreeze":
        # Thawing hands the whole frozen heap, start-up included, back to the collector: one full pass now
        # reclaims the closed sockets' cycles, and freezing again keeps the later passes small (left thawed,
        # each following full pass walked about 250,000 objects, 130-170 ms, as all sockets left).
        gc.unfreeze()
        gc.collect()
        gc.freeze()
