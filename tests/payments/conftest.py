"""A gateway listening on a known port, so the in-process vendor emulators call its webhook routes back over HTTP."""

import asyncio
import importlib
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.payment import Payment
from gateway.messaging.bus import Published
from gateway.settings import Settings
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import NotificationDispatcher
from tests.conftest import make_settings
from tests.properties.builders import published_listing, signed_in

# The tests settle each push themselves (DarajaSandbox.settle_now), never by waiting out a delay.
NEVER_ON_ITS_OWN_S = 600.0


@pytest.fixture
def gateway_socket() -> Iterator[socket.socket]:
    """The gateway's socket, bound before the settings name its port: a port only probed for could meanwhile become
    the source port of one of the test's own outgoing connections, and the gateway would fail to start."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound


@pytest.fixture
def gateway_port(gateway_socket: socket.socket) -> int:
    return int(gateway_socket.getsockname()[1])


@pytest.fixture
def settings(settings: Settings, mongodb_url: str, redis_url: str, gateway_port: int) -> Settings:
    # The first outbound HTTP client of a process imports httpcore: done here, outside the event loop.
    importlib.import_module("httpcore")
    return make_settings(
        mongodb_url,
        redis_url,
        redis={"namespace": settings.redis.namespace},
        server={"public_url": f"http://127.0.0.1:{gateway_port}"},
        payments={"sandbox_callback_delay_s": NEVER_ON_ITS_OWN_S},
    )


@pytest.fixture
async def client(aiohttp_client, app: web.Application, gateway_socket: socket.socket, gateway_port: int) -> TestClient:  # type: ignore[no-untyped-def]
    def the_bound_socket(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
        # A duplicate for the server to close: the fixture closes its own, whichever of the two goes first.
        return gateway_socket.dup()

    return await aiohttp_client(app, server_kwargs={"port": gateway_port, "socket_factory": the_bound_socket})


@pytest.fixture
def sandbox(client: TestClient) -> SandboxVendors:
    return client.app[SERVICES].payments.sandbox


@pytest.fixture
def published(client: TestClient) -> list[Published]:
    """Every event the app's bus publishes from now on."""
    seen: list[Published] = []

    async def record(event: Published) -> None:
        seen.append(event)

    client.app[SERVICES].bus.subscribe(record)
    return seen


def payment_statuses(published: list[Published], payment_id: str) -> list[str]:
    return [event.data["status"] for event in published if event.type == "payment.updated" and event.data["id"] == payment_id]


def booking_statuses(published: list[Published], booking_id: str) -> list[str]:
    return [
        event.data["status"]
        for event in published
        if event.type == "booking.updated" and event.data["id"] == booking_id and event.target == f"user:{event.data['guest_id']}"
    ]


async def eventually(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def delivered(app: web.Application, notifications: NotificationDispatcher, count: int) -> None:
    """Wait until the emulator has posted `count` notifications in all, then until the gateway has applied them."""
    await eventually(lambda: len(notifications.deliveries) >= count, f"{count} webhook deliveries")
    await app[SERVICES].payments.finish_background_work()


async def held_booking(client: TestClient, *, start_in_days: int = 10, nights: int = 2, **listing: Any) -> dict[str, Any]:
    """A published listing, a guest, and that guest's held booking (with `guest` and `agent` headers added)."""
    _, agent = await signed_in(client, "agent")
    place = await published_listing(client, agent, **listing)
    _, guest = await signed_in(client)
    check_in = datetime.now(UTC).date() + timedelta(days=start_in_days)
    body = {
        "property_id": place["id"],
        "check_in": str(check_in),
        "check_out": str(check_in + timedelta(days=nights)),
        "guests": 2,
    }
    response = await client.post("/v1/bookings", json=body, headers=guest)
    assert response.status == 201, await response.text()
    return {**await response.json(), "guest": guest, "agent": agent}


async def pay(
    client: TestClient, booking: dict[str, Any], method: str = "mpesa", *, phone: str = "0712345678", key: str = "pay-key-0001"
) -> dict[str, Any]:
    body: dict[str, Any] = {"purpose": "booking", "target_id": booking["id"], "method": method}
    if method == "mpesa":
        body["phone"] = phone
    response = await client.post("/v1/payments", json=body, headers={**booking["guest"], "Idempotency-Key": key})
    assert response.status == 201, await response.text()
    return await response.json()


async def stored_payment(payment_id: str) -> Payment:
    payment = await Payment.get(PydanticObjectId(payment_id))
    assert payment is not None
    return payment
