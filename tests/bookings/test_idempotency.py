"""Idempotency-Key on booking creation: retries answer the same booking, a reused key with another body is refused."""

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient

from documents.booking import Booking
from tests.properties.builders import problem_type, published_listing, signed_in


def stay(listing_id: str, start: int, nights: int = 2) -> dict:
    check_in = datetime.now(UTC).date() + timedelta(days=start)
    return {"property_id": listing_id, "check_in": str(check_in), "check_out": str(check_in + timedelta(days=nights)), "guests": 1}


async def test_a_retry_with_the_same_key_and_body_answers_the_same_booking(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    headers = {**guest, "Idempotency-Key": "order-0001-abcdef"}
    first = await client.post("/v1/bookings", json=stay(listing["id"], 5), headers=headers)
    retry = await client.post("/v1/bookings", json=stay(listing["id"], 5), headers=headers)
    assert (first.status, retry.status) == (201, 200)
    assert await first.json() == await retry.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await Booking.find().count() == 1


async def test_the_same_key_with_another_body_is_refused(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    headers = {**guest, "Idempotency-Key": "order-0002-abcdef"}
    assert (await client.post("/v1/bookings", json=stay(listing["id"], 5), headers=headers)).status == 201
    other = await client.post("/v1/bookings", json=stay(listing["id"], 9), headers=headers)
    assert other.status == 422 and await problem_type(other) == "idempotency-key-reused"
    assert await Booking.find().count() == 1


async def test_keys_belong_to_one_guest(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    _, other_guest = await signed_in(client)
    key = {"Idempotency-Key": "shared-key-123"}
    assert (await client.post("/v1/bookings", json=stay(listing["id"], 5), headers={**guest, **key})).status == 201
    theirs = await client.post("/v1/bookings", json=stay(listing["id"], 9), headers={**other_guest, **key})
    assert theirs.status == 201


async def test_concurrent_duplicates_with_one_key_create_one_booking(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    headers = {**guest, "Idempotency-Key": "tap-tap-tap-0003"}
    responses = await asyncio.gather(*(client.post("/v1/bookings", json=stay(listing["id"], 5), headers=headers) for _ in range(10)))
    statuses = sorted(response.status for response in responses)
    assert statuses == [200] * 9 + [201]
    assert len({(await response.json())["id"] for response in responses}) == 1
    assert await Booking.find().count() == 1


async def test_a_malformed_key_is_refused(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    response = await client.post("/v1/bookings", json=stay(listing["id"], 5), headers={**guest, "Idempotency-Key": "x y"})
    assert response.status == 400
    assert await Booking.find().count() == 0
