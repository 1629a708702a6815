"""Integration API keys: shown once, stored hashed, scoped, expiring, rotated with a grace period, revoked."""

import asyncio
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from bson import ObjectId
from pymongo import AsyncMongoClient

from documents.audit import AuditEvent, AuditKind
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import TEST_DATABASE
from tests.factories import Clock
from tests.properties.builders import problem_type, published_listing, signed_in

GRACE = timedelta(hours=1)
REQUESTS_PER_MINUTE = 8
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    api_keys = settings.api_keys.model_copy(update={"rotation_grace_s": int(GRACE.total_seconds())})
    limits = settings.rate_limits.model_copy(update={"api_key_requests": f"{REQUESTS_PER_MINUTE}/minute"})
    return create_app(settings.model_copy(update={"api_keys": api_keys, "rate_limits": limits}), clock=clock)


@pytest.fixture
async def admin(client: TestClient) -> dict[str, str]:
    return (await signed_in(client, "admin"))[1]


@pytest.fixture
async def agent(client: TestClient) -> tuple[str, dict[str, str]]:
    return await signed_in(client, "agent")


async def _create(client: TestClient, admin: dict[str, str], agent_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Channel manager", "scopes": ["bookings:read"], "agent_id": agent_id, "expires_at": (START + timedelta(days=30)).isoformat()}
    response = await client.post("/v1/admin/api-keys", json={**body, **overrides}, headers=admin)
    assert response.status == 201, await response.text()
    return await response.json()


async def _bookings(client: TestClient, secret: str, *, header: str = "X-API-Key") -> Any:
    value = f"Bearer {secret}" if header == "Authorization" else secret
    return await client.get("/v1/integrations/bookings", headers={header: value})


async def test_the_secret_is_shown_once_and_only_its_hash_is_stored(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]], mongo: AsyncMongoClient
) -> None:
    created = await _create(client, admin, agent[0])
    secret = created["secret"]
    assert secret.startswith("lk_") and len(secret) >= 40
    stored = await mongo[TEST_DATABASE]["api_keys"].find_one({})
    assert stored is not None
    assert secret not in str(stored)
    assert stored["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    listed = await client.get("/v1/admin/api-keys", headers=admin)
    assert listed.status == 200
    text = await listed.text()
    assert secret not in text and stored["secret_hash"] not in text
    assert (await listed.json())["items"][0]["hint"] == secret[:9]


async def test_a_key_reads_its_agents_bookings_through_either_header(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]]
) -> None:
    listing = await published_listing(client, agent[1])
    guest = (await signed_in(client, "guest"))[1]
    stay = {"property_id": listing["id"], "check_in": str(date.today() + timedelta(days=10)), "check_out": str(date.today() + timedelta(days=12)), "guests": 2}
    booked = await client.post("/v1/bookings", json=stay, headers=guest)
    assert booked.status == 201, await booked.text()
    other_agent = (await signed_in(client, "agent"))[0]
    mine = (await _create(client, admin, agent[0]))["secret"]
    theirs = (await _create(client, admin, other_agent))["secret"]
    for header in ("X-API-Key", "Authorization"):
        response = await _bookings(client, mine, header=header)
        assert response.status == 200, await response.text()
        assert [item["id"] for item in (await response.json())["items"]] == [(await booked.json())["id"]]
    assert (await (await _bookings(client, theirs)).json())["items"] == []


async def test_a_missing_scope_is_a_403_and_a_bad_key_a_401(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]]
) -> None:
    listings_only = (await _create(client, admin, agent[0], scopes=["listings:read"]))["secret"]
    refused = await _bookings(client, listings_only)
    assert refused.status == 403 and await problem_type(refused) == "forbidden"
    assert (await client.get("/v1/integrations/listings", headers={"X-API-Key": listings_only})).status == 200
    for bad in ("lk_" + "x" * 43, "not-a-key"):
        assert (await _bookings(client, bad)).status == 401
    assert (await client.get("/v1/integrations/bookings")).status == 401


async def test_an_expired_key_is_a_401(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]], clock: Clock
) -> None:
    secret = (await _create(client, admin, agent[0], expires_at=(START + timedelta(days=1)).isoformat()))["secret"]
    assert (await _bookings(client, secret)).status == 200
    clock.now = START + timedelta(days=1)
    expired = await _bookings(client, secret)
    assert expired.status == 401 and await problem_type(expired) == "unauthenticated"


async def test_rotation_keeps_both_secrets_during_the_grace_period_only(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]], clock: Clock
) -> None:
    created = await _create(client, admin, agent[0])
    old = created["secret"]
    rotated = await client.post(f"/v1/admin/api-keys/{created['key']['id']}/rotate", headers=admin)
    assert rotated.status == 200, await rotated.text()
    new = (await rotated.json())["secret"]
    assert new != old and (await rotated.json())["key"]["previous_valid_until"] is not None
    clock.now = START + GRACE - timedelta(seconds=1)
    assert (await _bookings(client, old)).status == 200
    assert (await _bookings(client, new)).status == 200
    clock.now = START + GRACE
    assert (await _bookings(client, old)).status == 401
    assert (await _bookings(client, new)).status == 200


async def test_a_revoked_key_stops_at_once_with_its_previous_secret(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]]
) -> None:
    created = await _create(client, admin, agent[0])
    key_id = created["key"]["id"]
    rotated = await (await client.post(f"/v1/admin/api-keys/{key_id}/rotate", headers=admin)).json()
    revoked = await client.delete(f"/v1/admin/api-keys/{key_id}", headers=admin)
    assert revoked.status == 204
    for secret in (created["secret"], rotated["secret"]):
        assert (await _bookings(client, secret)).status == 401
    assert (await client.post(f"/v1/admin/api-keys/{key_id}/rotate", headers=admin)).status == 409
    assert (await client.delete(f"/v1/admin/api-keys/{key_id}", headers=admin)).status == 409
    audit = await (await client.get("/v1/admin/audit", params={"user_id": agent[0]}, headers=admin)).json()
    assert [(event["kind"], event["details"]["key_id"]) for event in audit["items"]] == [
        ("api_key_revoked", key_id),
        ("api_key_rotated", key_id),
        ("api_key_created", key_id),
    ]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"scopes": ["payments:write"]}, "body.scopes.0"),
        ({"scopes": []}, "body.scopes"),
        ({"expires_at": (START - timedelta(minutes=1)).isoformat()}, "body.expires_at"),
        ({"expires_at": (START + timedelta(days=400)).isoformat()}, "body.expires_at"),
        ({"expires_at": "2026-12-01T00:00:00"}, "body.expires_at"),
    ],
)
async def test_keys_are_created_only_with_known_scopes_and_a_bounded_expiry(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]], overrides: dict[str, Any], field: str
) -> None:
    body = {"name": "x", "scopes": ["bookings:read"], "agent_id": agent[0], "expires_at": (START + timedelta(days=1)).isoformat()}
    response = await client.post("/v1/admin/api-keys", json={**body, **overrides}, headers=admin)
    assert response.status == 422
    assert field in {error["field"] for error in (await response.json(content_type="application/problem+json"))["errors"]}


async def test_only_admins_manage_keys(client: TestClient, agent: tuple[str, dict[str, str]]) -> None:
    assert (await client.get("/v1/admin/api-keys", headers=agent[1])).status == 403
    body = {"name": "x", "scopes": ["bookings:read"], "agent_id": agent[0], "expires_at": (START + timedelta(days=1)).isoformat()}
    assert (await client.post("/v1/admin/api-keys", json=body, headers=agent[1])).status == 403


async def test_a_key_past_its_request_limit_gets_429s_while_other_keys_go_on(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]]
) -> None:
    busy = (await _create(client, admin, agent[0]))["secret"]
    calm = (await _create(client, admin, agent[0]))["secret"]
    answers = await asyncio.gather(*(_bookings(client, busy) for _ in range(REQUESTS_PER_MINUTE + 3)))

    assert sorted(answer.status for answer in answers) == [200] * REQUESTS_PER_MINUTE + [429] * 3
    refused = next(answer for answer in answers if answer.status == 429)
    assert await problem_type(refused) == "rate-limited" and 0 < int(refused.headers["Retry-After"]) <= 60
    assert (await _bookings(client, calm)).status == 200


async def test_removing_the_agent_role_revokes_the_agents_keys_and_audits_it(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]]
) -> None:
    former = await _create(client, admin, agent[0])
    other_agent_id, _ = await signed_in(client, "agent")
    unaffected = await _create(client, admin, other_agent_id)
    assert (await _bookings(client, former["secret"])).status == 200

    removed = await client.delete(f"/v1/admin/users/{agent[0]}/roles/agent", headers=admin)

    assert removed.status == 200
    assert (await _bookings(client, former["secret"])).status == 401
    assert (await _bookings(client, unaffected["secret"])).status == 200
    listed = {key["id"]: key for key in (await (await client.get("/v1/admin/api-keys", headers=admin)).json())["items"]}
    assert listed[former["key"]["id"]]["revoked_at"] is not None and listed[unaffected["key"]["id"]]["revoked_at"] is None
    audited = await AuditEvent.find({"kind": AuditKind.API_KEY_REVOKED.value}).to_list()
    assert [(str(event.user_id), event.details["key_id"], event.details["because"]) for event in audited] == [
        (agent[0], former["key"]["id"], "role_removed")
    ]


async def test_a_key_of_an_account_that_is_no_longer_an_agent_is_refused(
    client: TestClient, admin: dict[str, str], agent: tuple[str, dict[str, str]], mongo: AsyncMongoClient
) -> None:
    created = await _create(client, admin, agent[0])
    # The role gone without its keys being revoked, as a key made while the role was being removed would be.
    await mongo[TEST_DATABASE]["users"].update_one({"_id": ObjectId(agent[0])}, {"$pull": {"roles": "agent"}})

    refused = await _bookings(client, created["secret"])

    assert refused.status == 401 and await problem_type(refused) == "unauthenticated"
