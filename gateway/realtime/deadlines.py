"""Deadlines of many sockets on one timer: a heap of (when, key) instead of an asyncio timer per socket."""

import asyncio
import heapq
from collections.abc import Callable

# Entries left behind by re-armed or cancelled keys are dropped once they outnumber the live ones this much.
_STALE_ALLOWANCE = 2
_STALE_MINIMUM = 64


class Deadlines:
    """Calls `due(key)` once the latest deadline armed for `key` passes; a cancelled or re-armed one is skipped.

    An asyncio timer copies the context and holds a handle, a bound method and its arguments: about 600 bytes a
    socket. Here a socket costs a heap entry and a dict entry, and the loop holds one timer for the earliest."""

    def __init__(self, due: Callable[[str], None]) -> None:
        self._due = due
        self._when: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._timer: asyncio.Handle | None = None
        # When the timer fires: uvloop answers a call_at already past with a plain Handle, which has no when().
        self._timer_at = 0.0

    def __len__(self) -> int:
        return len(self._when)

    def arm(self, key: str, delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        when = loop.time() + max(0.0, delay_s)
        self._when[key] = when
        heapq.heappush(self._heap, (when, key))
        if len(self._heap) > _STALE_ALLOWANCE * len(self._when) + _STALE_MINIMUM:
            self._heap = [(at, live) for live, at in self._when.items()]
            heapq.heapify(self._heap)
        if self._timer is None or when < self._timer_at:
            self._schedule(loop)

    def cancel(self, key: str) -> None:
        self._when.pop(key, None)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        if self._heap:
            self._timer_at = self._heap[0][0]
            self._timer = loop.call_at(self._timer_at, self._fire)

    def _fire(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._timer = None
        while self._heap and self._heap[0][0] <= now:
            when, key = heapq.heappop(self._heap)
            if self._when.get(key) == when:
                del self._when[key]
                self._due(key)
        self._schedule(loop)
