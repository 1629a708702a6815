"""The ledger's routes: admins page through entries and balances and post adjustments, idempotently; no one else may."""

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.ledger.accounts import PLATFORM_REVENUE, SUSPENSE, cash, host_payable
from gateway.vendors.payments import SandboxVendors
from tests.factories import access_token_for, auth_header, create_user
from tests.ledger.books import balance, ledger_problems
from tests.payments.conftest import held_booking
from tests.payments.test_cards_and_refunds import paid_by_card
from tests.properties.builders import problem_type

MOVE_TO_REVENUE = {
    "reason": "Unmatched deposit identified as a listing fee",
    "lines": [
        {"account": SUSPENSE, "currency": "KES", "amount_minor": 5_000},
        {"account": PLATFORM_REVENUE, "currency": "KES", "amount_minor": -5_000},
    ],
}


async def admin_headers(client: TestClient) -> dict[str, str]:
    return auth_header(access_token_for(client.app, await create_user(client.app, roles=("admin",))))


async def all_pages(client: TestClient, path: str, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = await client.get(path, params={**query, "limit": 1, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert answer.status == 200, await answer.text()
        page = await answer.json()
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items


async def test_admins_page_through_entries_and_balances(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await paid_by_card(client, sandbox, booking)
    admin = await admin_headers(client)

    entries = await all_pages(client, "/v1/admin/ledger/entries", admin)
    assert [entry["kind"] for entry in entries] == ["commission", "payment_collected"]
    assert all(entry["cause"]["payment_id"] == payment["id"] for entry in entries)
    mine = await all_pages(client, "/v1/admin/ledger/entries", admin, account=cash("stripe"))
    assert [entry["kind"] for entry in mine] == ["payment_collected"]
    balances = await all_pages(client, "/v1/admin/ledger/balances", admin)
    assert {item["account"] for item in balances} == {cash("stripe"), host_payable(booking["agent_id"]), PLATFORM_REVENUE}
    hosts = await all_pages(client, "/v1/admin/ledger/balances", admin, account_prefix="host_payable:")
    assert [(item["account"], item["by_kind"]["commission"]) for item in hosts] == [
        (host_payable(booking["agent_id"]), booking["price"]["platform_fee_minor"])
    ]

    refused = await client.get("/v1/admin/ledger/entries", params={"cursor": "not-a-cursor"}, headers=admin)
    assert refused.status == 400
    for path, query in (("entries", {"account": "$where"}), ("entries", {"kind": "gift"}), ("balances", {"limit": "0"})):
        refused = await client.get(f"/v1/admin/ledger/{path}", params=query, headers=admin)
        assert refused.status == 422, (path, query)
    for headers in (booking["agent"], booking["guest"]):
        assert (await client.get("/v1/admin/ledger/entries", headers=headers)).status == 403
    assert (await client.get("/v1/me/earnings")).status == 401


async def test_an_adjustment_is_posted_once_per_key_with_its_reason_and_admin(client: TestClient) -> None:
    admin = await admin_headers(client)
    keyed = {**admin, "Idempotency-Key": "adjust-0001"}

    posted = await client.post("/v1/admin/ledger/adjustments", json=MOVE_TO_REVENUE, headers=keyed)
    assert posted.status == 201, await posted.text()
    entry = await posted.json()
    assert (entry["kind"], entry["reason"], entry["admin_id"] is not None) == ("adjustment", MOVE_TO_REVENUE["reason"], True)
    replayed = await client.post("/v1/admin/ledger/adjustments", json=MOVE_TO_REVENUE, headers=keyed)
    assert replayed.status == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    assert (await replayed.json())["id"] == entry["id"]
    other = {**MOVE_TO_REVENUE, "reason": "Something else entirely"}
    reused = await client.post("/v1/admin/ledger/adjustments", json=other, headers=keyed)
    assert reused.status == 422 and await problem_type(reused) == "idempotency-key-reused"
    assert await balance(SUSPENSE) == 5_000 and await balance(PLATFORM_REVENUE) == -5_000

    unbalanced = {**MOVE_TO_REVENUE, "lines": [{**line, "amount_minor": 5_000} for line in MOVE_TO_REVENUE["lines"]]}
    unknown_account = {**MOVE_TO_REVENUE, "lines": [{**line, "account": "my_pocket"} for line in MOVE_TO_REVENUE["lines"]]}
    for body in (unbalanced, unknown_account):
        refused = await client.post("/v1/admin/ledger/adjustments", json=body, headers={**admin, "Idempotency-Key": "adjust-0002"})
        assert refused.status == 422, await refused.text()
    # M-Pesa's charges for a month, from Safaricom's statement: posted by finance against cash at M-Pesa.
    charges = {"reason": "M-Pesa B2C and C2B charges, November statement", "lines": [
        {"account": "vendor_fees:mpesa", "currency": "KES", "amount_minor": 1_240},
        {"account": "cash:mpesa", "currency": "KES", "amount_minor": -1_240}]}  # fmt: skip
    charged = await client.post("/v1/admin/ledger/adjustments", json=charges, headers={**admin, "Idempotency-Key": "charges-2026-11"})
    assert charged.status == 201, await charged.text()
    assert await balance("vendor_fees:mpesa") == 1_240
    assert (await client.post("/v1/admin/ledger/adjustments", json=MOVE_TO_REVENUE, headers=admin)).status == 400
    guest = auth_header(access_token_for(client.app, await create_user(client.app)))
    assert (await client.post("/v1/admin/ledger/adjustments", json=MOVE_TO_REVENUE, headers={**guest, "Idempotency-Key": "adjust-0003"})).status == 403
    assert await ledger_problems() == []


async def test_adjustments_racing_into_an_account_not_opened_yet_all_count(client: TestClient) -> None:
    admin = await admin_headers(client)
    body = {"reason": "Opening balances for a migrated host", "lines": [
        {"account": SUSPENSE, "currency": "KES", "amount_minor": 100},
        {"account": host_payable("0" * 24), "currency": "KES", "amount_minor": -100},
    ]}  # fmt: skip
    answers = await asyncio.gather(*(
        client.post("/v1/admin/ledger/adjustments", json=body, headers={**admin, "Idempotency-Key": f"opening-{n:04d}"})
        for n in range(10)
    ))  # fmt: skip
    assert [answer.status for answer in answers] == [201] * 10
    assert await balance(host_payable("0" * 24)) == -1_000 and await balance(SUSPENSE) == 1_000
    assert await ledger_problems() == []
