"""How much one guest may hold unpaid: caps that hold when a guest's requests race, a rate of new holds, and holds
that lapsed unpaid counted against the guest."""

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.booking import Booking
from documents.night_claim import NightClaim
from gateway.app import create_app
from gateway.bookings.holds import sweep_lapsed_holds
from gateway.settings import Settings
from gateway.state import SERVICES
from tests.bookings.test_holds import days_ahead, stay
from tests.factories import settings_with
from tests.properties.builders import PROBLEM, problem_type, published_listing, signed_in


async def _listings(client: TestClient, count: int) -> list[dict]:
    _, agent = await signed_in(client, "agent")
    return [await published_listing(client, agent) for _ in range(count)]


async def _lapse(booking_ids: list[str]) -> None:
    """As if the holds' time had run out a moment ago."""
    await Booking.get_pymongo_collection().update_many(
        {"_id": {"$in": [ObjectId(booking_id) for booking_id in booking_ids]}},
        {"$set": {"hold_expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )


async def test_racing_holds_of_one_guest_never_exceed_the_cap(client: TestClient) -> None:
    listings = await _listings(client, 8)
    guest_id, guest = await signed_in(client)

    answers = await asyncio.gather(
        *(client.post("/v1/bookings", json=stay(listing, days_ahead(10), 90), headers=guest) for listing in listings)
    )

    statuses = [answer.status for answer in answers]
    assert statuses.count(201) == 3 and statuses.count(409) == 5, statuses
    assert {await problem_type(answer) for answer in answers if answer.status == 409} == {"hold-limit-reached"}
    assert await Booking.find({"guest_id": guest_id, "status": "held"}).count() == 3
    assert await NightClaim.find().count() == 3 * 90, "a refused hold keeps no night"


async def test_racing_holds_of_one_guest_at_one_listing_hold_one_stay(client: TestClient) -> None:
    [listing] = await _listings(client, 1)
    guest_id, guest = await signed_in(client)
    # Six stays that do not overlap: together they would take 90 nights of the listing's calendar.
    stays = [stay(listing, days_ahead(10 + 15 * index), 15) for index in range(6)]

    answers = await asyncio.gather(*(client.post("/v1/bookings", json=body, headers=guest) for body in stays))

    statuses = [answer.status for answer in answers]
    assert statuses.count(201) == 1 and statuses.count(409) == 5, statuses
    assert await Booking.find({"guest_id": guest_id}).count() == 1
    assert await NightClaim.find().count() == 15
    # Another guest is not held back by this one's cap.
    _, other = await signed_in(client)
    refused_for_guest = next(body for body, answer in zip(stays, answers) if answer.status == 409)
    assert (await client.post("/v1/bookings", json=refused_for_guest, headers=other)).status == 201


async def test_a_cancelled_or_lapsed_hold_stops_counting(client: TestClient) -> None:
    listings = await _listings(client, 5)
    _, guest = await signed_in(client)
    held = [await (await client.post("/v1/bookings", json=stay(listing, days_ahead(5), 2), headers=guest)).json() for listing in listings[:3]]
    assert (await client.post("/v1/bookings", json=stay(listings[3], days_ahead(5), 2), headers=guest)).status == 409

    assert (await client.post(f"/v1/bookings/{held[0]['id']}/cancel", headers=guest)).status == 200
    assert (await client.post("/v1/bookings", json=stay(listings[3], days_ahead(5), 2), headers=guest)).status == 201
    await _lapse([held[1]["id"]])
    assert (await client.post("/v1/bookings", json=stay(listings[4], days_ahead(5), 2), headers=guest)).status == 201


async def test_a_guest_whose_holds_keep_lapsing_is_refused_for_a_while(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings_with(settings, "rate_limits", lapsed_holds_per_user="2/day")))
    listings = await _listings(client, 3)
    _, guest = await signed_in(client)
    held = [await (await client.post("/v1/bookings", json=stay(listing, days_ahead(5), 2), headers=guest)).json() for listing in listings[:2]]
    await _lapse([booking["id"] for booking in held])
    assert await sweep_lapsed_holds({"services": client.app[SERVICES]}) == 2

    refused = await client.post("/v1/bookings", json=stay(listings[2], days_ahead(5), 2), headers=guest)

    assert refused.status == 429 and await problem_type(refused) == "holds-lapsed"
    assert 86_000 < int(refused.headers["Retry-After"]) <= 86_400
    _, other = await signed_in(client)
    assert (await client.post("/v1/bookings", json=stay(listings[2], days_ahead(5), 2), headers=other)).status == 201


async def test_new_holds_are_rate_limited(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings_with(settings, "rate_limits", holds_per_user="3/hour")))
    [listing] = await _listings(client, 1)
    _, guest = await signed_in(client)
    for _ in range(3):
        held = await client.post("/v1/bookings", json=stay(listing, days_ahead(5), 2), headers=guest)
        assert held.status == 201
        assert (await client.post(f"/v1/bookings/{(await held.json())['id']}/cancel", headers=guest)).status == 200

    limited = await client.post("/v1/bookings", json=stay(listing, days_ahead(5), 2), headers=guest)

    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0
    assert (await limited.json(content_type=PROBLEM))["type"].endswith(":rate-limited")
