"""The guard against blocking calls on the event loop really catches one, and says where."""

import time

import pytest

from tests.conftest import BLOCKING_THRESHOLD_S, LOOP_WATCHDOG


def _hold_the_loop() -> None:
    time.sleep(BLOCKING_THRESHOLD_S + 0.3)


@pytest.mark.allows_blocking
async def test_a_blocking_sleep_on_the_loop_is_reported_with_its_place() -> None:
    LOOP_WATCHDOG.recording = True
    try:
        _hold_the_loop()
        assert LOOP_WATCHDOG.blocked and "_hold_the_loop" in LOOP_WATCHDOG.blocked[0]
    finally:
        LOOP_WATCHDOG.recording = False
        LOOP_WATCHDOG.blocked.clear()
