"""A host's published listing, a guest holding a stay there, and the conversation about it, over real HTTP."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.settings import Settings
from tests.conftest import make_settings
from tests.properties.builders import published_listing, signed_in

# Low enough that a test reaches them in a few sends.
MESSAGES_PER_MINUTE = 6
TYPING_SIGNALS_PER_MINUTE = 3


@pytest.fixture
def settings(mongodb_url: str, redis_url: str) -> Settings:
    return make_settings(
        mongodb_url,
        redis_url,
        auth={"bcrypt_cost": 4},
        rate_limits={
            "messages_per_user": f"{MESSAGES_PER_MINUTE}/minute",
            "typing_signals_per_user": f"{TYPING_SIGNALS_PER_MINUTE}/minute",
        },
    )


@dataclass
class Stay:
    client: TestClient
    host_id: str
    host: dict[str, str]
    guest_id: str
    guest: dict[str, str]
    listing: dict[str, Any]
    booking: dict[str, Any]
    conversation: dict[str, Any]

    async def send(self, headers: dict[str, str], text: str = "", **extra: Any) -> Any:
        body = {"client_id": uuid.uuid4().hex, "text": text, **extra}
        return await self.client.post(
            f"/v1/conversations/{self.conversation['id']}/messages", json=body, headers=headers
        )

    async def history(self, headers: dict[str, str], **query: Any) -> Any:
        return await self.client.get(
            f"/v1/conversations/{self.conversation['id']}/messages", params=query, headers=headers
        )


@pytest.fixture
async def stay(client: TestClient) -> Stay:
    host_id, host = await signed_in(client, "agent")
    listing = await published_listing(client, host)
    guest_id, guest = await signed_in(client)
    check_in = datetime.now(UTC).date() + timedelta(days=10)
    held = await client.post(
        "/v1/bookings",
        json={
            "property_id": listing["id"],
            "check_in": str(check_in),
            "check_out": str(check_in + timedelta(days=2)),
            "guests": 2,
        },
        headers=guest,
    )
    assert held.status == 201, await held.text()
    booking = await held.json()
    opened = await client.post("/v1/conversations", json={"booking_id": booking["id"]}, headers=guest)
    assert opened.status == 201, await opened.text()
    return Stay(client, host_id, host, guest_id, guest, listing, booking, await opened.json())
