"""Pricing tests sign in many users: a cheap password hash keeps creating them fast."""

import pytest

from gateway.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(mongodb_url: str, redis_url: str) -> Settings:
    return make_settings(mongodb_url, redis_url, auth={"bcrypt_cost": 4})
