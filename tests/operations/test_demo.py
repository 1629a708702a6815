"""`lango demo` seeds a marketplace a newcomer can sign in to, and running it again adds nothing."""

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.hosted_event import HostedEvent
from documents.property import Property
from documents.stored_file import StoredFile
from documents.ticket import Ticket
from documents.ticket_order import TicketOrder
from documents.ticket_type import TicketType
from documents.user import User
from gateway.demo.catalogue import AGENTS, DEMO_PASSWORD, GUESTS, SCANNER
from gateway.demo.seed import DemoRefused, seed_demo
from gateway.state import SERVICES

pytestmark = pytest.mark.timeout(180)


async def _counts() -> dict[str, int]:
    return {
        "users": await User.count(),
        "listings": await Property.count(),
        "photos": await StoredFile.count(),
        "events": await HostedEvent.count(),
        "ticket_types": await TicketType.count(),
        "bookings": await Booking.count(),
        "orders": await TicketOrder.count(),
        "tickets": await Ticket.count(),
    }


async def test_the_demo_seeds_once_even_run_twice_at_once_and_its_agent_signs_in_to_see_their_listings(
    client: TestClient, lango
) -> None:  # type: ignore[no-untyped-def]
    # Two at once (two terminals, a retried deploy step): one seeds, the other waits and finds it all there.
    racing = await asyncio.gather(lango("demo"), lango("demo"))
    assert [run.code for run in racing] == [0, 0], [run.err for run in racing]
    assert sum("nothing added" in run.out for run in racing) == 1
    seeded = await _counts()
    assert seeded == {
        "users": 6,
        "listings": 6,
        "photos": 12,
        "events": 1,
        "ticket_types": 2,
        "bookings": 4,
        "orders": 2,
        "tickets": 3,
    }
    again = await lango("demo")
    assert again.code == 0, again.err
    assert "nothing added: it was seeded already" in again.out
    assert await _counts() == seeded

    agent = AGENTS["mombasa"]
    assert f"{agent.email}" in again.out and f"password: {DEMO_PASSWORD}" in again.out
    secret = re.search(rf"{re.escape(agent.email)}.*\n\s+two-factor secret (\w+)", again.out)
    assert secret is not None, again.out
    step = await client.post("/v1/auth/login", json={"email": agent.email, "password": DEMO_PASSWORD})
    assert step.status == 200 and (await step.json())["status"] == "mfa_required"
    # The code of the next time step: the demo's enrolment spent the current one.
    code = pyotp.TOTP(secret.group(1)).at(datetime.now(UTC) + timedelta(seconds=30))
    signed = await client.post("/v1/auth/login/mfa", json={"mfa_token": (await step.json())["mfa_token"], "code": code})
    assert signed.status == 200, await signed.text()
    token = {"Authorization": f"Bearer {(await signed.json())['tokens']['access_token']}"}

    mine = await (await client.get("/v1/me/properties", headers=token)).json()
    assert {listing["title"] for listing in mine["items"]} == {"Nyali beach apartment", "Old Town guest room"}
    assert all(listing["status"] == "published" and len(listing["photo_ids"]) == 2 for listing in mine["items"])
    photo = await client.get(f"/v1/files/{mine['items'][0]['photo_ids'][0]}", headers=token)
    assert photo.status == 200 and (await photo.json())["content_type"] == "image/jpeg"
    nearby = await client.get("/v1/properties", params={"county": "Kisumu"}, headers=token)
    assert len((await nearby.json())["items"]) == 2

    event = await HostedEvent.find_one({})
    assert event is not None and event.status == "published"
    scanner = await User.find_one({"email": SCANNER.email})
    assert scanner is not None and event.scanner_ids == [str(scanner.id)]
    # Door staff and guests need no second factor: they sign in with the password alone.
    door = await client.post("/v1/auth/login", json={"email": SCANNER.email, "password": DEMO_PASSWORD})
    assert (await door.json())["status"] == "signed_in"

    # Each guest has stays, paid but one, and paid tickets: the console's and the app's pages have something to show.
    assert sorted(booking.status for booking in await Booking.find({}).to_list()) == [
        "confirmed",
        "confirmed",
        "confirmed",
        "held",
    ]
    assert {order.status for order in await TicketOrder.find({}).to_list()} == {"paid"}
    guest = await client.post("/v1/auth/login", json={"email": GUESTS[0].email, "password": DEMO_PASSWORD})
    guest_token = {"Authorization": f"Bearer {(await guest.json())['tokens']['access_token']}"}
    assert len((await (await client.get("/v1/tickets", headers=guest_token)).json())["items"]) == 2
    assert "each guest has stays" in again.out


async def test_the_demo_is_refused_in_production(client: TestClient) -> None:
    services = client.app[SERVICES]
    production = services.settings.model_copy(update={"environment": "production"})
    with pytest.raises(DemoRefused):
        await seed_demo(dataclasses.replace(services, settings=production))
    assert await User.count() == 0
