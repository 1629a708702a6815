"""After the hold: confirmation through the payments seam, cancellation with refunds, completion, events, access."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.booking import Booking
from documents.night_claim import NightClaim
from documents.property import CancellationPolicy
from gateway.bookings.lifecycle import cancel_booking, complete_finished_stays, confirm_booking
from gateway.bookings.problems import BookingStateProblem
from gateway.messaging.bus import Published
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.state import SERVICES
from tests.properties.builders import problem_type, published_listing, signed_in


def days_ahead(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


async def held_booking(client: TestClient, guest: dict[str, str], listing: dict[str, Any], start: int, nights: int = 2) -> dict[str, Any]:
    body = {
        "property_id": listing["id"],
        "check_in": str(days_ahead(start)),
        "check_out": str(days_ahead(start + nights)),
        "guests": 2,
    }
    response = await client.post("/v1/bookings", json=body, headers=guest)
    assert response.status == 201, await response.text()
    return await response.json()


def test_refunds_follow_the_policy_in_whole_minor_units() -> None:
    policy = CancellationPolicy(full_refund_days=7, partial_refund_days=2, partial_refund_percent=50)
    check_in = date(2031, 6, 10)
    assert policy.refund_minor(1_000_001, check_in, date(2031, 6, 3)) == 1_000_001
    assert policy.refund_minor(1_000_001, check_in, date(2031, 6, 4)) == 500_000
    assert policy.refund_minor(1_000_001, check_in, date(2031, 6, 8)) == 500_000
    assert policy.refund_minor(1_000_001, check_in, date(2031, 6, 9)) == 0


async def test_payment_confirms_a_hold_once(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    booking = await held_booking(client, guest, listing, 5)
    confirmed = await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")
    assert confirmed.status == "confirmed" and confirmed.payment_id == "pay-1"
    assert (await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")).status == "confirmed"
    with pytest.raises(BookingStateProblem):
        await confirm_booking(client.app[SERVICES], booking["id"], "pay-2")


async def test_a_guest_cancelling_a_confirmed_stay_gets_the_policy_refund_and_frees_the_nights(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(
        client, agent, cancellation_policy={"full_refund_days": 30, "partial_refund_days": 3, "partial_refund_percent": 25}
    )
    guest_id, guest = await signed_in(client)
    booking = await held_booking(client, guest, listing, 10)
    await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")
    asked: list[Booking] = []

    async def record_refund(services: Services, cancelled: Booking) -> None:
        asked.append(cancelled)

    # The flow with the payments' refunder swapped for one that records what it is asked.
    recording = replace(client.app[SERVICES], booking_refunders=(record_refund,))
    cancelled = await cancel_booking(recording, Caller(guest_id, frozenset({"guest"}), "session"), booking["id"])
    assert cancelled.status == "cancelled" and cancelled.cancelled_by == "guest"
    assert cancelled.refund_due_minor == booking["price"]["total_minor"] * 25 // 100
    assert [refund.refund_due_minor for refund in asked] == [cancelled.refund_due_minor]
    assert await NightClaim.find({"booking_id": ObjectId(booking["id"])}).count() == 0
    again = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=guest)
    assert again.status == 409 and await problem_type(again) == "booking-state-conflict"
    _, next_guest = await signed_in(client)
    await held_booking(client, next_guest, listing, 10)


async def test_an_agent_cancelling_refunds_everything_and_a_hold_refunds_nothing(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    confirmed = await held_booking(client, guest, listing, 1)
    await confirm_booking(client.app[SERVICES], confirmed["id"], "pay-1")
    by_agent = await (await client.post(f"/v1/bookings/{confirmed['id']}/cancel", headers=agent)).json()
    assert by_agent["cancelled_by"] == "agent" and by_agent["refund_due_minor"] == confirmed["price"]["total_minor"]
    held = await held_booking(client, guest, listing, 20)
    by_guest = await (await client.post(f"/v1/bookings/{held['id']}/cancel", headers=guest)).json()
    assert by_guest["refund_due_minor"] == 0


async def test_stays_complete_after_check_out(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    booking = await held_booking(client, guest, listing, 3, nights=2)
    await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")
    assert await complete_finished_stays(client.app[SERVICES], today=days_ahead(4)) == 0
    assert await complete_finished_stays(client.app[SERVICES], today=days_ahead(5)) == 1
    assert (await Booking.get(ObjectId(booking["id"]))).status == "completed"  # type: ignore[union-attr]
    late_cancel = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=guest)
    assert late_cancel.status == 409


async def test_every_change_reaches_the_guest_and_the_agent_as_booking_updated(client: TestClient) -> None:
    agent_id, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    guest_id, guest = await signed_in(client)
    heard: list[Published] = []

    async def listen(event: Published) -> None:
        heard.append(event)

    client.app[SERVICES].bus.subscribe(listen)
    booking = await held_booking(client, guest, listing, 4)
    await confirm_booking(client.app[SERVICES], booking["id"], "pay-1")
    await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=guest)
    updates = [(event.target, event.data["status"]) for event in heard if event.type == "booking.updated"]
    assert updates == [
        (f"user:{guest_id}", "held"), (f"user:{agent_id}", "held"),
        (f"user:{guest_id}", "confirmed"), (f"user:{agent_id}", "confirmed"),
        (f"user:{guest_id}", "cancelled"), (f"user:{agent_id}", "cancelled"),
    ]  # fmt: skip
    assert all(event.data["id"] == booking["id"] for event in heard)


async def test_guests_agents_and_admins_each_see_only_their_bookings(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    _, other_guest = await signed_in(client)
    _, other_agent = await signed_in(client, "agent")
    _, admin = await signed_in(client, "admin")
    first = await held_booking(client, guest, listing, 3)
    # A guest holds one stay per listing at a time.
    second = await held_booking(client, guest, await published_listing(client, agent), 6)
    path = f"/v1/bookings/{first['id']}"

    for outsider in (other_guest, other_agent):
        assert (await client.get(path, headers=outsider)).status == 404
        assert (await client.post(f"{path}/cancel", headers=outsider)).status == 404
        for view in ("guest", "agent"):
            listed = await client.get("/v1/bookings", params={"view": view}, headers=outsider)
            assert (await listed.json())["items"] == []
        assert (await client.get("/v1/bookings", params={"view": "all"}, headers=outsider)).status == 403
    for insider in (guest, agent, admin):
        assert (await client.get(path, headers=insider)).status == 200

    def ids(page: dict[str, Any]) -> list[str]:
        return [item["id"] for item in page["items"]]

    newest_first = [second["id"], first["id"]]
    assert ids(await (await client.get("/v1/bookings", headers=guest)).json()) == newest_first
    assert ids(await (await client.get("/v1/bookings", params={"view": "agent"}, headers=agent)).json()) == newest_first
    page = await (await client.get("/v1/bookings", params={"view": "all", "limit": "1"}, headers=admin)).json()
    rest = await (await client.get("/v1/bookings", params={"view": "all", "cursor": page["next_cursor"]}, headers=admin)).json()
    assert ids(page) + ids(rest) == newest_first
    assert (await client.get(path)).status == 401
    agents_cannot_book = await client.post("/v1/bookings", json={"property_id": listing["id"]}, headers=agent)
    assert agents_cannot_book.status == 403
