"""Fixtures for provider tests: the session's Redis on a database of their own, a fresh namespace per test, and an
HTTP client for the adapters that call their vendor over HTTP."""

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from redis.asyncio import Redis

PROVIDER_REDIS_DB = 14


@pytest.fixture
def redis_namespace() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def provider_redis(redis_url: str, redis_namespace: str) -> AsyncIterator[Redis]:
    """A client on database 14 of the session's Redis (REDIS_URL, 127.0.0.1:6379, or one the harness started)."""
    client = Redis.from_url(urlunsplit(urlsplit(redis_url)._replace(path=f"/{PROVIDER_REDIS_DB}")))
    try:
        yield client
    finally:
        stale = [key async for key in client.scan_iter(match=f"{redis_namespace}:*")]
        if stale:
            await client.delete(*stale)
        await client.aclose()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client
