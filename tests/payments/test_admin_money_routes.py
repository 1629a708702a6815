"""Admins refund a payment in full or in part (once per key, never more than is left) and push stuck payouts along as
far as their state allows; no one else may do either."""

import asyncio

from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.payment import Payment
from documents.payout import Payout, PayoutStatus
from gateway.vendors.payments import SandboxVendors
from tests.factories import access_token_for, auth_header, create_user
from tests.ledger.books import ledger_problems
from tests.payments.conftest import held_booking
from tests.payments.test_cards_and_refunds import paid_by_card
from tests.payments.test_payouts import PAID_AT_ONCE, earning_agent
from tests.properties.builders import problem_type

REASON = "Guest complained about the water supply"


async def _admin(client: TestClient) -> dict[str, str]:
    return auth_header(access_token_for(client.app, await create_user(client.app, roles=("admin",))))


async def test_an_admin_refunds_part_then_the_rest_once_per_key(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await paid_by_card(client, sandbox, booking)
    total = booking["price"]["total_minor"]
    admin = await _admin(client)
    refunds = f"/v1/admin/payments/{payment['id']}/refunds"
    part = {"amount_minor": total // 4, "reason": REASON}

    unkeyed = await client.post(refunds, json=part, headers=admin)
    by_guest = await client.post(refunds, json=part, headers={**booking["guest"], "Idempotency-Key": "refund-0001"})
    too_much = await client.post(
        refunds, json={"amount_minor": total + 1, "reason": REASON}, headers={**admin, "Idempotency-Key": "refund-0000"}
    )
    first = await client.post(refunds, json=part, headers={**admin, "Idempotency-Key": "refund-0001"})
    replayed = await client.post(refunds, json=part, headers={**admin, "Idempotency-Key": "refund-0001"})

    assert unkeyed.status == 400 and by_guest.status == 403
    assert too_much.status == 409 and await problem_type(too_much) == "payment-not-refundable"
    assert first.status == replayed.status == 200
    assert [refund["requested_minor"] for refund in (await replayed.json())["refunds"]] == [total // 4]

    rest = await client.post(refunds, json={"reason": REASON}, headers={**admin, "Idempotency-Key": "refund-0002"})
    nothing_left = await client.post(
        refunds, json={"reason": REASON}, headers={**admin, "Idempotency-Key": "refund-0003"}
    )

    assert rest.status == 200
    assert [refund["requested_minor"] for refund in (await rest.json())["refunds"]] == [total // 4, total - total // 4]
    assert nothing_left.status == 409 and await problem_type(nothing_left) == "payment-not-refundable"
    audited = await AuditEvent.find({"kind": AuditKind.PAYMENT_REFUNDED_BY_ADMIN.value}).sort("_id").to_list()
    assert [(str(event.user_id), event.details["requested_minor"]) for event in audited] == [
        (booking["guest_id"], total // 4),
        (booking["guest_id"], total - total // 4),
    ]
    assert await ledger_problems() == []


async def test_an_admin_lists_payouts_and_retries_them_as_far_as_their_state_allows(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    agent = await earning_agent(client, sandbox, PAID_AT_ONCE)
    admin = await _admin(client)
    stuck = Payout(user_id=agent.id, amount_minor=10_000, phone=PAID_AT_ONCE, open_key=agent.id)
    await stuck.insert()
    paid = Payout(user_id=agent.id, amount_minor=20_000, phone=PAID_AT_ONCE, status=PayoutStatus.PAID)
    failed = Payout(user_id=agent.id, amount_minor=30_000, phone=PAID_AT_ONCE, status=PayoutStatus.FAILED)
    await paid.insert()
    await failed.insert()

    listed = await client.get("/v1/admin/payouts", params={"user_id": agent.id}, headers=admin)
    only_paid = await client.get("/v1/admin/payouts", params={"status": "paid"}, headers=admin)
    by_agent = await client.get("/v1/admin/payouts", headers=agent.headers)
    resent = await client.post(f"/v1/admin/payouts/{stuck.id}/retry", headers=admin)
    again_paid = await client.post(f"/v1/admin/payouts/{paid.id}/retry", headers=admin)
    # The stay is not past its holdback yet: nothing is payable, so the failed payout's retry pays nothing.
    again_failed = await client.post(f"/v1/admin/payouts/{failed.id}/retry", headers=admin)
    unknown = await client.post("/v1/admin/payouts/0123456789abcdef01234567/retry", headers=admin)

    assert [item["id"] for item in (await listed.json())["items"]] == [str(failed.id), str(paid.id), str(stuck.id)]
    assert [item["id"] for item in (await only_paid.json())["items"]] == [str(paid.id)]
    assert by_agent.status == 403
    assert resent.status == 200 and (await resent.json())["status"] == "sent"
    assert again_paid.status == 409 and await problem_type(again_paid) == "payout-not-retryable"
    assert again_failed.status == 409 and await problem_type(again_failed) == "payout-not-retryable"
    assert unknown.status == 404
    audited = await AuditEvent.find({"kind": AuditKind.PAYOUT_RETRIED_BY_ADMIN.value}).to_list()
    assert sorted(event.details["status"] for event in audited) == ["failed", "pending"]
    assert all(str(event.user_id) == agent.id for event in audited)


async def test_admins_refunding_one_payment_at_once_never_return_more_than_was_collected(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    payment = await paid_by_card(client, sandbox, booking)
    total = booking["price"]["total_minor"]
    admin = await _admin(client)
    refunds = f"/v1/admin/payments/{payment['id']}/refunds"
    three_quarters = {"amount_minor": total * 3 // 4, "reason": REASON}

    answers = await asyncio.gather(
        *(
            client.post(refunds, json=three_quarters, headers={**admin, "Idempotency-Key": f"race-{n % 3:04d}"})
            for n in range(6)
        )
    )

    assert {answer.status for answer in answers} <= {200, 409}
    stored = await Payment.get(payment["id"])
    assert stored is not None and sum(refund.requested_minor for refund in stored.refunds) <= total
    assert len({refund.key for refund in stored.refunds}) == len(stored.refunds) <= 3
    assert await ledger_problems() == []
