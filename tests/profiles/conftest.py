"""Profile tests ask for codes again at once: no cooldown between them."""

import pytest

from gateway.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(settings: Settings, mongodb_url: str, redis_url: str) -> Settings:
    return make_settings(
        mongodb_url, redis_url, redis={"namespace": settings.redis.namespace}, server=settings.server.model_dump(),
        auth={"otp_resend_cooldown_s": 0},
    )  # fmt: skip
