"""Security headers on every answer and the CORS allowlist, through the real application."""

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.http_security import STRICT_CSP
from gateway.settings import Settings

ALLOWED = "https://app.lango.example"
HOSTILE = "https://evil.example"


@pytest.fixture
def app(settings: Settings) -> web.Application:
    server = settings.server.model_copy(update={"cors_origins": [ALLOWED], "behind_tls": True})
    return create_app(settings.model_copy(update={"server": server}))


@pytest.fixture
def plain_app(settings: Settings) -> web.Application:
    return create_app(settings)


def _assert_hardened(headers) -> None:  # type: ignore[no-untyped-def]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Server"] == "lango"


@pytest.mark.parametrize("path, status", [("/healthz", 200), ("/nope", 404), ("/openapi.json", 200)])
async def test_json_answers_and_errors_carry_the_strict_headers(client: TestClient, path: str, status: int) -> None:
    response = await client.get(path)
    assert response.status == status
    _assert_hardened(response.headers)
    assert response.headers["Content-Security-Policy"] == STRICT_CSP
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_method_errors_carry_the_headers_too(client: TestClient) -> None:
    response = await client.delete("/healthz")
    assert response.status == 405
    _assert_hardened(response.headers)


async def test_hsts_only_behind_tls(aiohttp_client, plain_app: web.Application) -> None:  # type: ignore[no-untyped-def]
    plain = await aiohttp_client(plain_app)
    response = await plain.get("/healthz")
    assert "Strict-Transport-Security" not in response.headers
    _assert_hardened(response.headers)


async def test_no_version_in_the_server_header(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert "aiohttp" not in response.headers["Server"] and "Python" not in response.headers["Server"]


async def test_preflight_from_an_allowed_origin_is_answered(client: TestClient) -> None:
    response = await client.options(
        "/v1/anything",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "idempotency-key" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    _assert_hardened(response.headers)


async def test_preflight_from_another_origin_is_refused(client: TestClient) -> None:
    response = await client.options(
        "/healthz", headers={"Origin": HOSTILE, "Access-Control-Request-Method": "GET"}
    )
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert (await response.json(content_type="application/problem+json"))["type"] == "urn:lango:problem:origin-not-allowed"


async def test_preflight_asking_for_an_unlisted_header_is_refused(client: TestClient) -> None:
    response = await client.options(
        "/healthz",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Admin"},
    )
    assert response.status == 403
    assert "x-admin" in (await response.json(content_type="application/problem+json"))["detail"]


async def test_actual_requests_are_readable_only_by_allowed_origins(client: TestClient) -> None:
    allowed = await client.get("/healthz", headers={"Origin": ALLOWED})
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "X-Request-ID" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Origin" in allowed.headers.getall("Vary")
    hostile = await client.get("/healthz", headers={"Origin": HOSTILE})
    assert "Access-Control-Allow-Origin" not in hostile.headers
    assert "Origin" in hostile.headers.getall("Vary")


async def test_error_answers_are_readable_by_allowed_origins(client: TestClient) -> None:
    response = await client.get("/nope", headers={"Origin": ALLOWED})
    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize("origin", ["*", "https://app.example.com/", "app.example.com", "https://*.example.com"])
def test_a_wildcard_or_malformed_origin_fails_at_start(settings: Settings, origin: str) -> None:
    from gateway.settings import ConfigError, load_settings
    from tests.conftest import REPO

    with pytest.raises(ConfigError, match="cors_origins"):
        load_settings(REPO / "config.toml", server={"cors_origins": [origin]})


async def test_real_routes_and_their_errors_all_carry_the_headers(client: TestClient) -> None:
    from tests.properties.builders import signed_in

    agent = (await signed_in(client, "agent"))[1]
    guest = (await signed_in(client, "guest"))[1]
    answers = [
        await client.get("/v1/properties", headers=agent),
        await client.get("/v1/me/properties", headers=agent),
        await client.get("/v1/auth/me"),
        await client.post("/v1/bookings", json={"$where": "1"}, headers=guest),
        await client.post("/v1/auth/login", data=b"not json", headers={"Content-Type": "application/json"}),
        await client.get("/v1/integrations/bookings", headers={"X-API-Key": "lk_unknown"}),
        await client.get("/v1/bookings/not-an-id", headers=agent),
    ]
    assert [answer.status for answer in answers] == [200, 200, 401, 422, 400, 401, 404]
    for answer in answers:
        _assert_hardened(answer.headers)
        assert answer.headers["Content-Security-Policy"] == STRICT_CSP
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
