"""Operator injection against the real routes: sign-in, search, listings and bookings refuse it and change nothing."""

from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pymongo import AsyncMongoClient

from tests.conftest import TEST_DATABASE
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.properties.builders import listing_body, published_listing, signed_in

PROBLEM = "application/problem+json"
COLLECTIONS = ("users", "sessions", "properties", "bookings", "night_claims")


async def _counts(mongo: AsyncMongoClient) -> dict[str, int]:
    database = mongo[TEST_DATABASE]
    return {name: await database[name].count_documents({}) for name in COLLECTIONS}


async def _refused(response: Any) -> list[str]:
    assert response.status == 422, await response.text()
    problem = await response.json(content_type=PROBLEM)
    assert problem["type"] == "urn:lango:problem:validation-error"
    return [error["field"] for error in problem["errors"]]


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": {"$gt": ""}, "password": {"$gt": ""}},
        {"email": "wanjiru@example.com", "password": {"$gt": ""}},
        {"email": {"$regex": ".*"}, "password": DEFAULT_PASSWORD},
        {"email": "wanjiru@example.com", "password": DEFAULT_PASSWORD, "$where": "return true"},
    ],
)
async def test_operator_credentials_sign_nobody_in(
    client: TestClient, mongo: AsyncMongoClient, credentials: dict[str, Any]
) -> None:
    await create_user(client.app, email="wanjiru@example.com")
    before = await _counts(mongo)
    response = await client.post("/v1/auth/login", json=credentials)
    await _refused(response)
    assert "tokens" not in await response.text()
    assert await _counts(mongo) == before
    signed_in_properly = await client.post("/v1/auth/login", json={"email": "wanjiru@example.com", "password": DEFAULT_PASSWORD})
    assert (await signed_in_properly.json())["status"] == "signed_in"


@pytest.mark.parametrize(
    "query",
    [
        "$where=sleep(1000)",
        "county[$regex]=.*",
        "town[$ne]=Kilimani",
        "min_price_minor[$gt]=0",
        "min_price_minor=%7B%22%24gt%22%3A0%7D",
        "type=%7B%22%24regex%22%3A%22.%2A%22%7D",
    ],
)
async def test_operators_in_search_parameters_are_refused(client: TestClient, mongo: AsyncMongoClient, query: str) -> None:
    agent = (await signed_in(client, "agent"))[1]
    await published_listing(client, agent)
    before = await _counts(mongo)
    await _refused(await client.get(f"/v1/properties?{query}", headers=agent))
    assert await _counts(mongo) == before


async def test_an_operator_shaped_string_is_only_ever_a_literal(client: TestClient) -> None:
    agent = (await signed_in(client, "agent"))[1]
    await published_listing(client, agent)
    response = await client.get('/v1/properties?county={"$regex": ".*"}', headers=agent)
    assert response.status == 200
    assert (await response.json())["items"] == []


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"address": {"county": {"$gt": ""}, "town": "Kilimani"}}, "body.address.county"),
        ({"amenities": [{"$where": "true"}]}, "body.amenities.0"),
        ({"$set": {"agent_id": "000000000000000000000000"}}, "body.$set"),
        ({"location": {"type": "Point", "coordinates": {"$near": [0, 0]}}}, "body.location.coordinates"),
        ({"nightly_price_minor": {"$gt": 0}}, "body.nightly_price_minor"),
    ],
)
async def test_nested_operators_in_a_listing_are_refused(
    client: TestClient, mongo: AsyncMongoClient, overrides: dict[str, Any], field: str
) -> None:
    agent = (await signed_in(client, "agent"))[1]
    listing = await published_listing(client, agent)
    before = await _counts(mongo)
    assert field in await _refused(await client.post("/v1/properties", json=listing_body(**overrides), headers=agent))
    assert field in await _refused(await client.patch(f"/v1/properties/{listing['id']}", json=overrides, headers=agent))
    assert await _counts(mongo) == before
    unchanged = await client.get(f"/v1/properties/{listing['id']}", headers=agent)
    assert await unchanged.json() == listing


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"property_id": {"$ne": None}}, "body.property_id"),
        ({"guests": {"$gt": 0}}, "body.guests"),
        ({"check_in": {"$lt": "2030-01-01"}}, "body.check_in"),
        ({"status": "confirmed"}, "body.status"),
        ({"$where": "this.guests > 0"}, "body.$where"),
    ],
)
async def test_nested_operators_in_a_booking_are_refused(
    client: TestClient, mongo: AsyncMongoClient, overrides: dict[str, Any], field: str
) -> None:
    agent = (await signed_in(client, "agent"))[1]
    guest = (await signed_in(client, "guest"))[1]
    listing = await published_listing(client, agent)
    check_in = date.today() + timedelta(days=20)
    stay = {"property_id": listing["id"], "check_in": str(check_in), "check_out": str(check_in + timedelta(days=2)), "guests": 2}
    before = await _counts(mongo)
    assert field in await _refused(await client.post("/v1/bookings", json={**stay, **overrides}, headers=guest))
    assert await _counts(mongo) == before
    assert (await client.post("/v1/bookings", json=stay, headers=guest)).status == 201
