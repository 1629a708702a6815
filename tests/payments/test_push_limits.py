"""M-Pesa STK pushes are limited per payer phone, per paying user, per client address and over the deployment, before
Daraja is asked."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.payment import Payment
from gateway.app import create_app
from gateway.settings import Settings
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from tests.factories import settings_with
from tests.payments.conftest import held_booking
from tests.properties.builders import problem_type, published_listing, signed_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings_with(
        settings, "rate_limits", stk_pushes_per_phone="2/hour", stk_pushes_per_user="2/hour", stk_pushes_per_address="3/hour"
    )


def _payment(booking: dict[str, Any], phone: str) -> dict[str, Any]:
    return {"purpose": "booking", "target_id": booking["id"], "method": "mpesa", "phone": phone}


async def _pay(client: TestClient, booking: dict[str, Any], headers: dict[str, str], phone: str, key: str) -> Any:
    return await client.post("/v1/payments", json=_payment(booking, phone), headers={**headers, "Idempotency-Key": key})


async def test_racing_pushes_to_one_phone_stop_at_its_limit(client: TestClient, sandbox: SandboxVendors) -> None:
    bookings = [await held_booking(client) for _ in range(5)]

    answers = await asyncio.gather(
        *(_pay(client, booking, booking["guest"], "0712345678", f"payment-key-{index}") for index, booking in enumerate(bookings))
    )

    statuses = [answer.status for answer in answers]
    assert statuses.count(201) == 2 and statuses.count(429) == 3, statuses
    refused = next(answer for answer in answers if answer.status == 429)
    assert await problem_type(refused) == "rate-limited" and int(refused.headers["Retry-After"]) > 0
    assert sandbox.daraja is not None and len(sandbox.daraja.pushes) == 2
    # Nothing was started for the refused ones: their bookings can still be paid, from another phone.
    assert await Payment.find_all().count() == 2
    unpaid = bookings[statuses.index(429)]
    assert (await _pay(client, unpaid, unpaid["guest"], "0722000111", "payment-key-again")).status == 201


async def test_pushes_asked_for_by_one_user_are_limited(client: TestClient, sandbox: SandboxVendors) -> None:
    _, agent = await signed_in(client, "agent")
    _, guest = await signed_in(client)
    check_in = datetime.now(UTC).date() + timedelta(days=10)
    stay = {"check_in": str(check_in), "check_out": str(check_in + timedelta(days=2)), "guests": 2}
    bookings = []
    for _ in range(3):
        place = await published_listing(client, agent)
        held = await client.post("/v1/bookings", json={**stay, "property_id": place["id"]}, headers=guest)
        bookings.append(await held.json())

    phones = ["0711000001", "0711000002", "0711000003"]
    answers = [await _pay(client, booking, guest, phone, f"key-{phone}") for booking, phone in zip(bookings, phones)]

    assert [answer.status for answer in answers] == [201, 201, 429]
    assert sandbox.daraja is not None and len(sandbox.daraja.pushes) == 2


async def test_pushes_from_one_address_are_limited(client: TestClient, sandbox: SandboxVendors) -> None:
    bookings = [await held_booking(client) for _ in range(4)]
    phones = ["0711000001", "0711000002", "0711000003", "0711000004"]

    answers = [await _pay(client, booking, booking["guest"], phone, f"key-{phone}") for booking, phone in zip(bookings, phones)]

    assert [answer.status for answer in answers] == [201, 201, 201, 429]
    assert sandbox.daraja is not None and len(sandbox.daraja.pushes) == 3


async def test_pushes_over_the_whole_deployment_are_limited(
    aiohttp_client, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    limited = settings_with(settings, "rate_limits", stk_pushes_per_address="100/hour", stk_pushes_overall="2/hour")
    client: TestClient = await aiohttp_client(create_app(limited))
    bookings = [await held_booking(client) for _ in range(3)]
    phones = ["0711000001", "0711000002", "0711000003"]

    # Three guests, three phones: each within its own limits, the third over the deployment's.
    answers = [await _pay(client, booking, booking["guest"], phone, f"key-{phone}") for booking, phone in zip(bookings, phones)]

    assert [answer.status for answer in answers] == [201, 201, 429]
    sandbox = client.app[SERVICES].payments.sandbox
    assert sandbox is not None and sandbox.daraja is not None and len(sandbox.daraja.pushes) == 2
