"""Steps the account tests share: signing up and in over HTTP and reading codes from the sandbox outbox."""

import re
from typing import Any

import pyotp
from aiohttp.test_utils import TestClient

from tests.factories import DEFAULT_PASSWORD, auth_header

PROBLEM = "application/problem+json"


async def code_sent_to(client: TestClient, destination: str) -> str:
    response = await client.get("/dev/outbox")
    assert response.status == 200
    for entry in (await response.json())["items"]:
        if entry["to"] == destination:
            return re.search(r"\b(\d{6})\b", entry["text"]).group(1)  # type: ignore[union-attr]
    raise AssertionError(f"no message to {destination} in the outbox")


async def sign_in(client: TestClient, email: str, password: str = DEFAULT_PASSWORD, **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/auth/login", json={"email": email, "password": password, **extra})
    assert response.status == 200, await response.text()
    return await response.json()


async def problem_type(response: Any) -> str:
    return (await response.json(content_type=PROBLEM))["type"].rsplit(":", 1)[1]


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return auth_header(body["tokens"]["access_token"])
