"""Review tests run the gateway on a clock they move: windows close without waiting."""

from datetime import UTC, datetime

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.settings import Settings
from tests.factories import Clock

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    return create_app(settings, clock=clock)
