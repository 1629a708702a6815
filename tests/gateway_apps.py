"""Gateways with suite-specific settings (storage, maps, analytics vendors), built outside the event loop."""

import importlib
from typing import Any

from aiohttp import web

from gateway.app import create_app
from tests.conftest import make_settings


def gateway_app(mongodb_url: str, redis_url: str, **overrides: Any) -> web.Application:
    """An application as the `app` fixture makes it, with these settings sections merged in."""
    # The first outbound HTTP client of a process imports httpcore and h2 (~0.4 s): done here, in a sync
    # fixture, the app's start-up on the event loop does not pay it.
    importlib.import_module("httpcore")
    return create_app(make_settings(mongodb_url, redis_url, **overrides))
