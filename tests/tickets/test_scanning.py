"""Scanning at the door over HTTP: exactly-once entry, replayed nonces, forged secrets, revocation, re-entry rules."""

import asyncio

from aiohttp.test_utils import TestClient
from bson import ObjectId
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from documents.door_pass import DoorPass
from documents.scan_record import ScanRecord
from gateway.crypto.encoding import b64url, from_b64url
from gateway.hosted_events.keys import public_key
from gateway.redis_client import redis_key
from gateway.state import SERVICES
from gateway.tickets.secrets import InvalidSecret, read_ticket_secret, verify_ticket_secret
from tests.tickets.builders import door_pass, door_staff, event_on_sale, paid_tickets, scan_body


async def _scan(client: TestClient, event_id: str, headers: dict[str, str], body: dict) -> dict:  # type: ignore[type-arg]
    answer = await client.post(f"/v1/events/{event_id}/scans", headers=headers, json=body)
    assert answer.status == 200, await answer.text()
    return await answer.json()  # type: ignore[no-any-return]


async def test_20_scanners_scanning_one_ticket_at_once_admit_it_once(client: TestClient) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    staff = await door_staff(client, sale, 20)

    answers = await asyncio.gather(*(
        _scan(client, sale.event_id, headers, scan_body(ticket["secret"], gate=f"gate-{n}"))
        for n, (_, headers) in enumerate(staff)
    ))  # fmt: skip

    results = [answer["result"] for answer in answers]
    assert results.count("ok") == 1 and results.count("already_redeemed") == 19
    admitted = next(answer for answer in answers if answer["result"] == "ok")
    assert {answer["redeemed_gate"] for answer in answers if answer["result"] != "ok"} == {admitted["gate"]}
    assert all(answer["holder_name"] == "Amani Njoroge" and answer["ticket_type"] == "Regular" for answer in answers)
    stats = await (await client.get(f"/v1/events/{sale.event_id}/stats", headers=staff[0][1])).json()
    assert stats["admitted"] == 1 and stats["inside"] == 1 and stats["by_gate"] == {admitted["gate"]: 1}


async def test_a_retried_nonce_gets_the_same_answer_and_creates_nothing(client: TestClient) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(_, headers)] = await door_staff(client, sale)
    body = scan_body(ticket["secret"])

    first = await _scan(client, sale.event_id, headers, body)
    retried = await asyncio.gather(*(_scan(client, sale.event_id, headers, body) for _ in range(5)))

    assert first["result"] == "ok" and all(answer == first for answer in retried)
    stored = await door_pass(ticket["id"])
    assert stored.entries == 1 and [mark.result for mark in stored.scans] == ["ok"]


async def test_a_scan_retried_after_the_ticket_moved_on_changes_nothing(client: TestClient) -> None:
    sale = await event_on_sale(client, reentry_allowed=True)
    [ticket] = await paid_tickets(client, sale, 1)
    [(_, headers)] = await door_staff(client, sale)
    early_exit, entry, leaving = (scan_body(ticket["secret"], direction="exit"), scan_body(ticket["secret"]),
                                  scan_body(ticket["secret"], direction="exit"))  # fmt: skip

    first = [await _scan(client, sale.event_id, headers, body) for body in (early_exit, entry, leaving)]
    # Late retries of the refused exit and of the entry, now that the holder is outside again.
    retried = [await _scan(client, sale.event_id, headers, body) for body in (early_exit, entry)]

    assert [answer["result"] for answer in first] == ["not_inside", "ok", "ok"]
    assert retried == first[:2]
    stored = await door_pass(ticket["id"])
    assert stored.entries == 1 and not stored.inside
    stats = await (await client.get(f"/v1/events/{sale.event_id}/stats", headers=headers)).json()
    assert stats["admitted"] == 1 and stats["inside"] == 0


async def test_the_door_shows_the_holder_even_when_redis_lost_the_list(client: TestClient) -> None:
    sale = await event_on_sale(client)
    listed, unlisted = await paid_tickets(client, sale, 2)
    [(_, headers)] = await door_staff(client, sale)
    await client.app[SERVICES].redis.hdel(redis_key(client.app[SERVICES].settings.redis, "tickets", "holders", sale.event_id),
                                 unlisted["id"])  # fmt: skip

    answers = [await _scan(client, sale.event_id, headers, scan_body(t["secret"])) for t in (listed, unlisted)]

    assert [(a["result"], a["holder_name"], a["ticket_type"]) for a in answers] == [
        ("ok", "Amani Njoroge", "Regular"), ("ok", "Amani Njoroge", "Regular")]  # fmt: skip


async def test_a_ticket_whose_issue_stopped_before_its_door_pass_still_admits_once(client: TestClient) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(_, headers)] = await door_staff(client, sale)
    await DoorPass.get_pymongo_collection().delete_one({"_id": ObjectId(ticket["id"])})

    answers = [await _scan(client, sale.event_id, headers, scan_body(ticket["secret"])) for _ in range(2)]

    assert [answer["result"] for answer in answers] == ["ok", "already_redeemed"]
    assert (await door_pass(ticket["id"])).entries == 1


async def test_a_forged_or_altered_secret_is_invalid_online_and_offline(client: TestClient) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(_, headers)] = await door_staff(client, sale)
    raw = bytearray(from_b64url(ticket["secret"]))
    raw[40] ^= 0x01  # the valid-until field: a longer-lasting ticket
    altered = b64url(bytes(raw))
    claims, payload, _ = read_ticket_secret(ticket["secret"])
    forged = b64url(payload + Ed25519PrivateKey.generate().sign(payload))

    kit = await (await client.get(f"/v1/events/{sale.event_id}/scanner-kit", headers=headers)).json()
    published = {key["kid"]: public_key(key["public_key"]) for key in kit["keys"]}
    bodies = [scan_body(secret) for secret in (altered, forged, "not-a-ticket")]
    online = [await _scan(client, sale.event_id, headers, body) for body in bodies]
    retried = await _scan(client, sale.event_id, headers, bodies[0])

    assert [answer["result"] for answer in online] == ["invalid", "invalid", "invalid"]
    assert retried == online[0] and await ScanRecord.find({"event_id": ObjectId(sale.event_id)}).count() == 3
    assert verify_ticket_secret(ticket["secret"], published) == claims
    for secret in (altered, forged):
        _, signed, signature = read_ticket_secret(secret)
        try:
            published[claims.kid].verify(signature, signed)
            raise AssertionError("an altered secret verified with the published key")
        except InvalidSignature:
            pass
        try:
            verify_ticket_secret(secret, published)
            raise AssertionError("an altered secret verified")
        except InvalidSecret:
            pass


async def test_exit_then_entry_needs_reentry_allowed(client: TestClient) -> None:
    strict, relaxed = await event_on_sale(client), await event_on_sale(client, reentry_allowed=True)
    answers = {}
    for name, sale in (("strict", strict), ("relaxed", relaxed)):
        [ticket] = await paid_tickets(client, sale, 1)
        [(_, headers)] = await door_staff(client, sale)
        steps = [scan_body(ticket["secret"]), scan_body(ticket["secret"], direction="exit"), scan_body(ticket["secret"])]
        answers[name] = [(await _scan(client, sale.event_id, headers, step))["result"] for step in steps]
        stats = await (await client.get(f"/v1/events/{sale.event_id}/stats", headers=headers)).json()
        answers[f"{name}-inside"] = stats["inside"]

    assert answers["strict"] == ["ok", "ok", "already_redeemed"] and answers["strict-inside"] == 0
    assert answers["relaxed"] == ["ok", "ok", "ok"] and answers["relaxed-inside"] == 1


async def test_only_the_events_door_staff_scan(client: TestClient) -> None:
    sale, other = await event_on_sale(client), await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(_, outsider)] = await door_staff(client, other)

    answer = await client.post(f"/v1/events/{sale.event_id}/scans", headers=outsider, json=scan_body(ticket["secret"]))

    assert answer.status == 403 and (await answer.json())["type"] == "urn:lango:problem:not-event-scanner"
