"""Steps the account tests share: signing up and in over HTTP and reading codes from the sandbox outbox.

Codes are sent by jobs: the apps these steps run against have the job worker running inside them.
"""

import asyncio
import re
import time
from datetime import UTC, datetime
from typing import Any

import pyotp
from aiohttp.test_utils import TestClient

from tests.factories import DEFAULT_PASSWORD, auth_header

PROBLEM = "application/problem+json"
DELIVERY_WAIT_S = 15.0


async def messages_to(client: TestClient, destination: str) -> list[dict[str, Any]]:
    """What the sandbox outbox kept for `destination`, newest first."""
    response = await client.get("/dev/outbox")
    assert response.status == 200
    return [entry for entry in (await response.json())["items"] if entry["to"] == destination]


async def message_to(client: TestClient, destination: str, kind: str | None = None, *, after: int = 0) -> dict[str, Any]:
    """The newest message to `destination` (of `kind`), waiting for the worker to send it; `after` messages to it
    that were there already do not count."""
    deadline = time.monotonic() + DELIVERY_WAIT_S
    while True:
        sent = [entry for entry in await messages_to(client, destination) if kind is None or entry["kind"] == kind]
        if len(sent) > after:
            return sent[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {kind or 'message'} to {destination} in the outbox")
        await asyncio.sleep(0.05)


async def code_sent_to(client: TestClient, destination: str, *, after: int = 0) -> str:
    entry = await message_to(client, destination, "otp", after=after)
    return re.search(r"\b(\d{6})\b", entry["text"]).group(1)  # type: ignore[union-attr]


async def sign_up(
    client: TestClient, *, email: str | None = None, phone: str | None = None, password: str = DEFAULT_PASSWORD, **extra: Any
) -> dict[str, Any]:
    """Both sign-up steps over HTTP: the answer of the confirmation (account, tokens, device token).
    `phone` is given as the routes read it (E.164)."""
    contact = {key: value for key, value in (("email", email), ("phone", phone)) if value}
    started = await client.post("/v1/auth/signup", json={**contact, "password": password})
    assert started.status == 202, await started.text()
    codes = {f"{key}_code": await code_sent_to(client, value) for key, value in contact.items()}
    confirmed = await client.post("/v1/auth/signup/confirm", json={**contact, **codes, **extra})
    assert confirmed.status == 201, await confirmed.text()
    return await confirmed.json()


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


async def turn_on_two_factor(client: TestClient, email: str) -> str:
    """Enrol and confirm an authenticator for the account; its TOTP secret."""
    signed_in = await sign_in(client, email)
    enrolment = await (await client.post("/v1/auth/2fa/enrol", headers=bearer(signed_in))).json()
    confirmed = await client.post("/v1/auth/2fa/confirm", json={"code": totp_now(enrolment["secret"])}, headers=bearer(signed_in))
    assert confirmed.status == 200, await confirmed.text()
    return str(enrolment["secret"])


def next_totp(secret: str) -> str:
    """The next step's code, as a phone a little ahead shows it: the current step may be spent by the enrolment."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(datetime.now(UTC)) + 1)
