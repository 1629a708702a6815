"""The suite's loop watchdog: it reports a call that holds the loop, and not a pass of the cyclic collector."""

import asyncio
import gc
import time
from collections.abc import AsyncIterator

import pytest

from tests.loop_watchdog import LoopWatchdog

# These tests hold the loop on purpose, to read this watchdog's answer instead of the suite's.
pytestmark = pytest.mark.allows_blocking

HOLD_S = 0.3


@pytest.fixture
async def watchdog() -> AsyncIterator[LoopWatchdog]:
    watchdog = LoopWatchdog(threshold_s=0.1)
    watchdog.watch(asyncio.get_running_loop())
    await asyncio.sleep(0)  # the first heartbeat
    watchdog.recording = True
    yield watchdog
    watchdog.stop()


async def test_a_call_that_holds_the_loop_is_reported_with_where(watchdog: LoopWatchdog) -> None:
    time.sleep(HOLD_S)

    assert len(watchdog.blocked) == 1
    assert "test_a_call_that_holds_the_loop_is_reported_with_where" in watchdog.blocked[0]


async def test_a_slow_collector_pass_is_not_reported(watchdog: LoopWatchdog) -> None:
    def slow_start(phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            time.sleep(HOLD_S)

    gc.callbacks.append(slow_start)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(slow_start)

    assert watchdog.blocked == []
