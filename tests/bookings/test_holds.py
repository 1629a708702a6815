"""Holding nights: the database lets exactly one of many concurrent overlapping requests through, and expiry frees them."""

import asyncio
from datetime import UTC, date, datetime, timedelta

from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.booking import Booking
from documents.night_claim import NightClaim
from gateway.bookings.holds import expire_lapsed_holds, sweep_lapsed_holds
from gateway.state import SERVICES
from tests.properties.builders import listing_body, problem_type, published_listing, signed_in

CONCURRENT_GUESTS = 50


def days_ahead(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def stay(listing: dict, check_in: date, nights: int, guests: int = 2) -> dict:
    return {
        "property_id": listing["id"],
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=nights)).isoformat(),
        "guests": guests,
    }


async def test_fifty_concurrent_overlapping_requests_hold_the_nights_exactly_once(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    guests = await asyncio.gather(*(signed_in(client) for _ in range(CONCURRENT_GUESTS)))
    start = days_ahead(10)
    # Windows [start+k, start+k+4) for k in 0..3 all share the night start+3: any two requests overlap.
    requests = [stay(listing, start + timedelta(days=index % 4), 4) for index in range(CONCURRENT_GUESTS)]

    responses = await asyncio.gather(
        *(client.post("/v1/bookings", json=body, headers=headers) for body, (_, headers) in zip(requests, guests))
    )

    statuses = [response.status for response in responses]
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == CONCURRENT_GUESTS - 1, statuses
    refused = [response for response in responses if response.status == 409]
    assert {await problem_type(response) for response in refused} == {"dates-unavailable"}
    winner = await next(response for response in responses if response.status == 201).json()
    assert winner["status"] == "held"
    claims = await NightClaim.find({"property_id": ObjectId(listing["id"])}).sort("night").to_list()
    check_in = date.fromisoformat(winner["check_in"])
    assert [claim.night for claim in claims] == [check_in + timedelta(days=offset) for offset in range(4)]
    assert {claim.booking_id for claim in claims} == {ObjectId(winner["id"])}

    lapsed_at = datetime.fromisoformat(winner["hold_expires_at"]) + timedelta(seconds=1)
    assert await expire_lapsed_holds(client.app[SERVICES], now=lapsed_at) == 1
    assert (await Booking.get(ObjectId(winner["id"]))).status == "expired"  # type: ignore[union-attr]
    assert await NightClaim.find({"property_id": ObjectId(listing["id"])}).count() == 0
    _, late_guest = await signed_in(client)
    again = await client.post("/v1/bookings", json=requests[0], headers=late_guest)
    assert again.status == 201, await again.text()


async def test_a_hold_freezes_its_price_and_expires_after_the_configured_time(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent, nightly_price_minor=450_000, cleaning_fee_minor=75_000)
    _, guest = await signed_in(client)
    before = datetime.now(UTC)
    response = await client.post("/v1/bookings", json=stay(listing, days_ahead(5), 3), headers=guest)
    assert response.status == 201
    booking = await response.json()
    first_night = days_ahead(5)
    assert booking["price"] == {
        "nights": 3,
        "nightly_price_minor": 450_000,
        "nights_total_minor": 1_350_000,
        "cleaning_fee_minor": 75_000,
        "total_minor": 1_425_000,
        "currency": "KES",
        # The platform's 10% (config.toml's commission.stays) comes out of what the agent earns, not on top.
        "platform_fee_minor": 142_500,
        "host_earnings_minor": 1_282_500,
        "night_prices": [
            {
                "night": (first_night + timedelta(days=n)).isoformat(),
                "price_minor": 450_000,
                "rate": "standard",
                "season": None,
            }
            for n in range(3)
        ],
        "discount": None,
        "discount_percent": 0,
        "discount_minor": 0,
    }
    hold_ttl = timedelta(seconds=client.app[SERVICES].settings.bookings.hold_ttl_s)
    expires = datetime.fromisoformat(booking["hold_expires_at"])
    assert before + hold_ttl <= expires + timedelta(seconds=1) and expires <= datetime.now(UTC) + hold_ttl
    changed = await client.patch(f"/v1/properties/{listing['id']}", json={"nightly_price_minor": 900_000}, headers=agent)
    assert changed.status == 200
    assert (await Booking.get(ObjectId(booking["id"]))).price.total_minor == 1_425_000  # type: ignore[union-attr]


async def test_the_check_out_day_is_free_for_the_next_guest(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, first = await signed_in(client)
    _, second = await signed_in(client)
    assert (await client.post("/v1/bookings", json=stay(listing, days_ahead(3), 2), headers=first)).status == 201
    assert (await client.post("/v1/bookings", json=stay(listing, days_ahead(5), 2), headers=second)).status == 201
    overlapping = await client.post("/v1/bookings", json=stay(listing, days_ahead(4), 2), headers=second)
    assert overlapping.status == 409


async def test_a_lapsed_hold_not_yet_swept_does_not_keep_its_nights(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, first = await signed_in(client)
    _, second = await signed_in(client)
    held = await (await client.post("/v1/bookings", json=stay(listing, days_ahead(8), 2), headers=first)).json()
    await Booking.get_pymongo_collection().update_one(
        {"_id": ObjectId(held["id"])}, {"$set": {"hold_expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    response = await client.post("/v1/bookings", json=stay(listing, days_ahead(9), 2), headers=second)
    assert response.status == 201
    assert (await Booking.get(ObjectId(held["id"]))).status == "expired"  # type: ignore[union-attr]


async def test_the_sweep_job_expires_only_lapsed_holds(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    lapsed = await (await client.post("/v1/bookings", json=stay(listing, days_ahead(2), 1), headers=guest)).json()
    # A guest holds one stay per listing at a time.
    other_listing = await published_listing(client, agent)
    fresh = await (await client.post("/v1/bookings", json=stay(other_listing, days_ahead(20), 1), headers=guest)).json()
    await Booking.get_pymongo_collection().update_one(
        {"_id": ObjectId(lapsed["id"])}, {"$set": {"hold_expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    assert await sweep_lapsed_holds({"services": client.app[SERVICES]}) == 1
    assert (await Booking.get(ObjectId(lapsed["id"]))).status == "expired"  # type: ignore[union-attr]
    assert (await Booking.get(ObjectId(fresh["id"]))).status == "held"  # type: ignore[union-attr]


async def test_stays_the_listing_cannot_take_are_refused_field_by_field(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent, max_guests=2)
    _, guest = await signed_in(client)
    body = stay(listing, days_ahead(-1), 200, guests=5)
    response = await client.post("/v1/bookings", json=body, headers=guest)
    assert response.status == 422
    problem = await response.json(content_type="application/problem+json")
    assert problem["type"].endswith("stay-not-allowed")
    assert {error["field"] for error in problem["errors"]} == {"body.check_in", "body.check_out", "body.guests"}
    assert problem["rules"] == ["check_in_past", "max_nights", "max_guests"]


async def test_drafts_cannot_be_booked_and_others_drafts_are_not_found(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    created = await (await client.post("/v1/properties", json=listing_body(), headers=agent)).json()
    _, guest = await signed_in(client)
    response = await client.post("/v1/bookings", json=stay(created, days_ahead(3), 2), headers=guest)
    assert response.status == 404
    _, agent_as_guest = await signed_in(client, "agent", "guest")
    mine = await (await client.post("/v1/properties", json=listing_body(), headers=agent_as_guest)).json()
    response = await client.post("/v1/bookings", json=stay(mine, days_ahead(3), 2), headers=agent_as_guest)
    assert response.status == 409
    assert await problem_type(response) == "property-not-bookable"


async def test_agents_block_nights_all_or_nothing_and_unblock_them(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    blocks = f"/v1/properties/{listing['id']}/blocks"
    window = {"start": days_ahead(10).isoformat(), "end": days_ahead(13).isoformat()}
    assert (await client.post(blocks, json=window, headers=agent)).status == 201
    refused = await client.post("/v1/bookings", json=stay(listing, days_ahead(12), 2), headers=guest)
    assert refused.status == 409
    booked = await client.post("/v1/bookings", json=stay(listing, days_ahead(13), 2), headers=guest)
    assert booked.status == 201
    overlapping = {"start": days_ahead(14).isoformat(), "end": days_ahead(16).isoformat()}
    assert (await client.post(blocks, json=overlapping, headers=agent)).status == 409
    assert await NightClaim.find({"kind": "block"}).count() == 3
    released = await client.delete(blocks, params=window, headers=agent)
    assert (await released.json()) == {"released_nights": 3}
    _, next_guest = await signed_in(client)
    assert (await client.post("/v1/bookings", json=stay(listing, days_ahead(10), 2), headers=next_guest)).status == 201


async def test_only_the_listings_agent_blocks_its_nights(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, other_agent = await signed_in(client, "agent")
    window = {"start": days_ahead(10).isoformat(), "end": days_ahead(13).isoformat()}
    response = await client.post(f"/v1/properties/{listing['id']}/blocks", json=window, headers=other_agent)
    assert response.status == 403
    response = await client.delete(f"/v1/properties/{listing['id']}/blocks", params=window, headers=other_agent)
    assert response.status == 403
    assert await NightClaim.find().count() == 0
