"""Sentry: off without a DSN; with one, an unhandled error reaches the ingest endpoint without secrets."""

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from gateway.app import create_app
from gateway.routing import ApiRoutes
from gateway.sentry import configure_sentry
from gateway.settings import Settings
from tests.conftest import free_port

SECRET_IN_PATH = "s3cr3t-webhook-path"


def _with_dsn(settings: Settings, dsn: str | None) -> Settings:
    return settings.model_copy(
        update={"sentry": settings.sentry.model_copy(update={"dsn": SecretStr(dsn) if dsn else None})}
    )


@pytest.fixture
def sentry_on(settings: Settings) -> Iterator[int]:
    """Sentry reporting to a port the test's ingest server will listen on; off again afterwards."""
    port = free_port()
    assert configure_sentry(_with_dsn(settings, f"http://public@127.0.0.1:{port}/1"), component="gateway")
    yield port
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.init(dsn=None)


@pytest.fixture
async def crashing_client(aiohttp_client, settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    routes = ApiRoutes(tag="test")

    @routes.get("/test/webhooks/{secret}")
    async def crash(request: web.Request) -> None:
        raise RuntimeError("the vendor adapter broke")

    app = create_app(settings)
    routes.install(app)
    return await aiohttp_client(app)


def test_nothing_starts_without_a_dsn(settings: Settings) -> None:
    assert configure_sentry(_with_dsn(settings, None), component="gateway") is False
    assert not sentry_sdk.get_client().is_active()


async def test_an_unhandled_error_is_reported_with_the_request_scrubbed(
    aiohttp_server,  # type: ignore[no-untyped-def]
    crashing_client: TestClient,
    sentry_on: int,
    json_lines: io.StringIO,
) -> None:
    events: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def ingest(request: web.Request) -> web.Response:
        header, *items = (await request.read()).split(b"\n")
        for item_header, payload in zip(items[::2], items[1::2]):
            if json.loads(item_header).get("type") == "event":
                events.append(json.loads(payload))
                arrived.set()
        return web.json_response({})

    ingest_app = web.Application()
    ingest_app.router.add_post("/api/1/envelope/", ingest)
    await aiohttp_server(ingest_app, port=sentry_on)
    response = await crashing_client.get(f"/test/webhooks/{SECRET_IN_PATH}?token=abc", headers={"Authorization": "Bearer xyz"})
    assert response.status == 500
    await asyncio.to_thread(sentry_sdk.flush, 5)
    await asyncio.wait_for(arrived.wait(), 10)
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["server_name"] == "gateway"
    serialized = json.dumps(event)
    assert SECRET_IN_PATH not in serialized.replace(event.get("transaction", ""), "")
    assert "Bearer xyz" not in serialized and "token=abc" not in serialized
