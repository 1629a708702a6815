"""Privacy tests: a gateway on a known port (the M-Pesa sandbox calls it back), files on local disk, analytics at the
PostHog emulator, and a clock the tests move."""

import importlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.settings import Settings
from providers.emulators.posthog import PostHogEmulator
from tests.analytics.test_analytics_flow import PROJECT_KEY, posthog, posthog_url
from tests.conftest import make_settings
from tests.payments.conftest import NEVER_ON_ITS_OWN_S, client, gateway_port, gateway_socket, sandbox

__all__ = ["client", "gateway_port", "gateway_socket", "posthog", "posthog_url", "sandbox"]


class Clock:
    """Now, as the flows read it, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def privacy_overrides() -> dict[str, object]:
    """`privacy` settings a test module changes."""
    return {}


@pytest.fixture
def settings(
    settings: Settings,
    privacy_overrides: dict[str, object], mongodb_url: str, redis_url: str, gateway_port: int, tmp_path: Path, posthog: PostHogEmulator,
    posthog_url: str,
) -> Settings:  # fmt: skip
    """The suite's settings in the namespace of the root fixture's, which removes its keys afterwards."""
    importlib.import_module("httpcore")
    posthog_settings = {
        "api_key": PROJECT_KEY, "host": posthog_url, "app_host": posthog_url,
        "personal_api_key": posthog.personal_api_key, "project_id": posthog.project_id,
    }  # fmt: skip
    return make_settings(
        mongodb_url,
        redis_url,
        redis={"namespace": settings.redis.namespace},
        server={"public_url": f"http://127.0.0.1:{gateway_port}"},
        payments={"sandbox_callback_delay_s": NEVER_ON_ITS_OWN_S},
        storage={"provider": "local", "local": {"root": str(tmp_path / "files")}, "max_server_upload_bytes": 200_000},
        analytics={"provider": "posthog", "posthog": posthog_settings},
        privacy=privacy_overrides,
    )


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    return create_app(settings, clock=clock)
