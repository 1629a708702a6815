"""Many sockets' deadlines on one timer: each key fires once, at its latest deadline, and never after a cancel."""

import asyncio
import time

import uvloop

from gateway.realtime.deadlines import Deadlines


class Recorder:
    def __init__(self, last: str) -> None:
        self.fired: list[str] = []
        self._last = last
        self.done = asyncio.Event()

    def __call__(self, key: str) -> None:
        self.fired.append(key)
        if key == self._last:
            self.done.set()


async def test_keys_fire_in_deadline_order_once_each_at_their_latest_deadline() -> None:
    record = Recorder(last="last")
    deadlines = Deadlines(record)
    deadlines.arm("moved-later", 0.0)
    deadlines.arm("b", 0.02)
    deadlines.arm("a", 0.01)
    deadlines.arm("moved-later", 0.03)  # re-armed: only the later deadline counts
    deadlines.arm("cancelled", 0.0)
    deadlines.cancel("cancelled")
    deadlines.arm("last", 0.05)

    await asyncio.wait_for(record.done.wait(), 5)

    assert record.fired == ["a", "b", "moved-later", "last"]
    assert len(deadlines) == 0


async def test_an_earlier_deadline_armed_later_is_not_held_up_by_a_far_one() -> None:
    record = Recorder(last="soon")
    deadlines = Deadlines(record)
    deadlines.arm("far", 3600)
    deadlines.arm("soon", 0.01)

    await asyncio.wait_for(record.done.wait(), 5)

    assert record.fired == ["soon"] and len(deadlines) == 1
    deadlines.cancel("far")


async def test_entries_left_by_churn_are_dropped_while_live_keys_still_fire() -> None:
    record = Recorder(last="kept")
    deadlines = Deadlines(record)
    for round_ in range(50):
        for key in range(20):
            deadlines.arm(f"socket-{key}", 3600 + round_)  # each re-arm leaves the old entry behind
    assert len(deadlines._heap) <= 3 * len(deadlines) + 64, "stale entries are compacted away"
    for key in range(20):
        deadlines.cancel(f"socket-{key}")
    deadlines.arm("kept", 0.01)

    await asyncio.wait_for(record.done.wait(), 5)

    assert record.fired == ["kept"]


def test_a_key_armed_while_the_timer_is_already_due_fires_on_uvloop() -> None:
    """uvloop answers a call_at whose time has passed with a plain Handle (no when()): at 10,000 sockets the first
    ping round takes long enough that the next deadline is already past when the timer is set again, and the
    pongs that arrive meanwhile arm new ones."""
    loop = uvloop.new_event_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))

    async def scenario() -> list[str]:
        fired: list[str] = []
        done = asyncio.Event()

        def due(key: str) -> None:
            fired.append(key)
            if key == "first":
                # A long round of work: "second" falls due before this round ends, and a pong comes in meanwhile.
                end = time.monotonic() + 0.03
                while time.monotonic() < end:
                    pass
                asyncio.get_running_loop().call_soon(deadlines.arm, "pong", 0.01)
            if key == "pong":
                done.set()

        deadlines = Deadlines(due)
        deadlines.arm("first", 0.0)
        deadlines.arm("second", 0.01)
        await asyncio.wait_for(done.wait(), 5)
        return fired

    try:
        assert loop.run_until_complete(scenario()) == ["first", "second", "pong"]
    finally:
        loop.close()
    assert errors == []
