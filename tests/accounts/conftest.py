"""Account tests run the job worker inside the gateway: sign-up and password-reset codes are sent by jobs."""

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.settings import Settings


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(settings, run_worker=True)
