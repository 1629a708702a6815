"""The HTTP contract every route shares: problem+json errors, request ids, compression, probes."""

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, Field

from gateway.app import create_app
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.settings import Settings

PROBLEM = "application/problem+json"


class Greeting(RequestModel):
    name: str = Field(min_length=1, max_length=20)
    times: int = Field(ge=1, le=3)


class Echo(BaseModel):
    text: str


class Listing(BaseModel):
    items: list[str]


def _test_routes() -> ApiRoutes:
    routes = ApiRoutes(tag="test")

    @routes.post("/test/greet", body=Greeting, response=Echo, status=201)
    async def greet(request: web.Request, body: Greeting) -> Echo:
        return Echo(text=" ".join([f"hello {body.name}"] * body.times))

    @routes.get("/test/big", response=Listing)
    async def big(request: web.Request) -> Listing:
        return Listing(items=["x" * 100] * 100)

    @routes.get("/test/crash")
    async def crash(request: web.Request) -> None:
        raise RuntimeError("secret internals: mongodb://user:pw@host")

    return routes


@pytest.fixture
async def client(aiohttp_client, settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    _test_routes().install(app)
    return await aiohttp_client(app)


async def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = await client.get("/nope")
    assert response.status == 404
    assert response.content_type == PROBLEM
    body = await response.json(content_type=PROBLEM)
    assert body["type"] == "urn:lango:problem:not-found"
    assert body["status"] == 404
    assert body["instance"] == "/nope"
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = await client.delete("/healthz")
    assert response.status == 405
    assert (await response.json(content_type=PROBLEM))["type"] == "urn:lango:problem:method-not-allowed"
    assert "GET" in response.headers["Allow"]


async def test_malformed_json_is_a_400_problem(client: TestClient) -> None:
    response = await client.post("/test/greet", data=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json(content_type=PROBLEM))["type"] == "urn:lango:problem:malformed-request"


async def test_other_media_type_is_a_415_problem(client: TestClient) -> None:
    response = await client.post("/test/greet", data="name=amani", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert (await response.json(content_type=PROBLEM))["type"] == "urn:lango:problem:unsupported-media-type"


async def test_validation_lists_every_bad_field(client: TestClient) -> None:
    response = await client.post("/test/greet", json={"name": "", "times": 9, "admin": True})
    assert response.status == 422
    body = await response.json(content_type=PROBLEM)
    assert body["type"] == "urn:lango:problem:validation-error"
    assert {error["field"] for error in body["errors"]} == {"body.name", "body.times", "body.admin"}


async def test_valid_body_reaches_the_handler(client: TestClient) -> None:
    response = await client.post("/test/greet", json={"name": "Amani", "times": 2})
    assert response.status == 201
    assert await response.json() == {"text": "hello Amani hello Amani"}


async def test_body_over_the_limit_is_a_413_problem(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"server": settings.server.model_copy(update={"max_body_bytes": 2048})}))
    _test_routes().install(app)
    client = await aiohttp_client(app)
    response = await client.post("/test/greet", json={"name": "a" * 4096, "times": 1})
    assert response.status == 413
    assert (await response.json(content_type=PROBLEM))["type"] == "urn:lango:problem:payload-too-large"


async def test_json_nested_too_deep_is_refused(client: TestClient) -> None:
    nested = "[" * 40 + "]" * 40
    response = await client.post("/test/greet", data=f'{{"name": {nested}}}', headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert "deeper" in (await response.json(content_type=PROBLEM))["detail"]


async def test_unexpected_error_is_a_500_problem_without_internals(client: TestClient) -> None:
    response = await client.get("/test/crash")
    assert response.status == 500
    text = await response.text()
    assert "secret internals" not in text and "Traceback" not in text
    assert (await response.json(content_type=PROBLEM))["type"] == "urn:lango:problem:internal-error"


async def test_request_id_is_echoed_when_well_formed_and_minted_otherwise(client: TestClient) -> None:
    offered = await client.get("/healthz", headers={"X-Request-ID": "phone-abc-12345"})
    assert offered.headers["X-Request-ID"] == "phone-abc-12345"
    hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])


async def test_large_json_is_gzipped_for_clients_that_accept_it(client: TestClient) -> None:
    response = await client.get("/test/big", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert response.headers.get("Content-Encoding") == "gzip"
    small = await client.get("/healthz", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert "Content-Encoding" not in small.headers


async def test_readyz_names_each_dependency(client: TestClient) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    checks = (await response.json())["checks"]
    assert {"mongodb", "redis"} <= checks.keys()
    assert set(checks.values()) == {"ok"}


async def test_readyz_is_503_naming_the_failing_dependency(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port, make_settings

    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    broken = make_settings(settings.mongodb.url.get_secret_value(), nothing_listens, redis={"socket_timeout_s": 0.5})  # type: ignore[union-attr]
    client = await aiohttp_client(create_app(broken))
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json(content_type=PROBLEM)
    assert body["type"] == "urn:lango:problem:not-ready"
    assert body["checks"]["mongodb"] == "ok"
    assert body["checks"]["redis"] != "ok"
    assert "redis" in body["detail"]
