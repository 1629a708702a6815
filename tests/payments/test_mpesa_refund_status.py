"""M-Pesa money sent back whose Result times out or never comes, against the in-process Daraja emulator: B2C refunds
and Paybill reversals are settled by the reconciliation job's Transaction Status queries, once, and never sent twice."""

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from documents.ledger_entry import LedgerEntry
from documents.paybill import PaybillPayment
from gateway.ledger.accounts import REFUNDS_PAYABLE, SUSPENSE, cash
from gateway.payments.reconcile import reconcile_now
from gateway.services import Services
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import DarajaSandbox, finish_b2c, pay_bill, post_pending_results
from tests.ledger.books import balance, ledger_problems
from tests.payments.conftest import delivered, held_booking, pay, stored_payment
from tests.payments.test_cards_and_refunds import FULL_THEN_HALF
from tests.payments.test_mpesa import settle_push
from tests.properties.builders import signed_in

TIMES_OUT_AFTER_PAYING = "254700000012"
TIMES_OUT_UNPAID = "254700000013"
RESULT_TWICE = "254700000014"
NO_RESULT_EVER = "254700000015"
MPESA = cash("mpesa")


def daraja(sandbox: SandboxVendors) -> DarajaSandbox:
    assert sandbox.daraja is not None
    return sandbox.daraja


def path_of(client: TestClient, url: str) -> str:
    return url.removeprefix(str(client.make_url("")))


async def cancelled_with_refund(
    client: TestClient, sandbox: SandboxVendors, phone: str, **listing: Any
) -> tuple[dict[str, Any], str]:
    """A booking paid by STK from `phone` and cancelled: its refund on its way to that phone through B2C, whose
    outcome the emulator has posted (or not) as the phone's scenario says. Answers the booking and the refund's id."""
    booking = await held_booking(client, **listing)
    payment = await pay(client, booking, phone=phone)
    await settle_push(client, sandbox, payment)
    by = booking["guest"] if listing else booking["agent"]
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=by)
    assert cancelled.status == 200, await cancelled.text()
    (originator_id,) = [key for key in daraja(sandbox).b2c_payments if key.startswith("refund-")]
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), originator_id)
    if phone != NO_RESULT_EVER:
        await delivered(client.app, daraja(sandbox).notifications, before + (2 if phone == RESULT_TWICE else 1))
    return {**booking, "payment_id": payment["id"]}, originator_id


async def reconciled_later(client: TestClient, sandbox: SandboxVendors, runs: int = 1) -> int:
    """Reconciliation runs (raced when several) once refunds have waited out their Result; their status Results
    delivered. Answers how many status queries were answered."""
    services: Services = client.app[SERVICES]
    later = services.clock() + timedelta(seconds=services.settings.payments.initiator_status_after_s + 60)
    before = len(daraja(sandbox).callbacks)
    await asyncio.gather(*(reconcile_now(services, later) for _ in range(runs)))
    answered = post_pending_results(daraja(sandbox))
    await delivered(client.app, daraja(sandbox).notifications, before + answered)
    return answered


async def test_a_refund_whose_b2c_timed_out_is_settled_by_status_queries_once(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking, originator_id = await cancelled_with_refund(client, sandbox, TIMES_OUT_AFTER_PAYING)
    total = booking["price"]["total_minor"]
    pending = await stored_payment(booking["payment_id"])
    assert [refund.status for refund in pending.refunds] == ["pending"] and pending.status == "succeeded"
    timeout = daraja(sandbox).callbacks[-1]

    # Two reconciliation runs race; their status Results, each twice, race the queue timeout posted again.
    services: Services = client.app[SERVICES]
    later = services.clock() + timedelta(seconds=services.settings.payments.initiator_status_after_s + 60)
    await asyncio.gather(reconcile_now(services, later), reconcile_now(services, later))
    results = list(daraja(sandbox).pending_results)
    daraja(sandbox).pending_results.clear()
    assert 1 <= len(results) <= 2
    answers = await asyncio.gather(
        *(client.post(path_of(client, url), data=orjson.dumps(body)) for url, body in results * 2),
        client.post(path_of(client, timeout.url), data=timeout.body),
    )
    assert {answer.status for answer in answers} == {200}

    refunded = await stored_payment(booking["payment_id"])
    assert (refunded.status, refunded.refunded_minor) == ("refunded", total)
    receipt = daraja(sandbox).transaction_for(originator_id).receipt
    assert [(refund.status, refund.vendor_reference) for refund in refunded.refunds] == [("succeeded", receipt)]
    assert await LedgerEntry.find({"cause.payment_id": booking["payment_id"], "kind": "refund"}).count() == 1
    assert await balance(REFUNDS_PAYABLE) == 0 and await balance(MPESA) == 0
    # Paid once: one B2C request, one payment out of the utility account; nothing more is asked or sent.
    assert len(daraja(sandbox).b2c_payments) == 1
    assert daraja(sandbox).utility_balance == daraja(sandbox).settings.b2c_float - total // 100
    assert await reconciled_later(client, sandbox) == 0
    assert await ledger_problems() == []


async def test_a_refund_whose_result_never_comes_is_asked_for(client: TestClient, sandbox: SandboxVendors) -> None:
    booking, _ = await cancelled_with_refund(client, sandbox, NO_RESULT_EVER)
    assert await reconciled_later(client, sandbox) == 1
    refunded = await stored_payment(booking["payment_id"])
    assert (refunded.status, [refund.status for refund in refunded.refunds]) == ("refunded", ["succeeded"])
    assert await balance(REFUNDS_PAYABLE) == 0 and await ledger_problems() == []


async def test_a_refund_mpesa_says_failed_stays_owed_and_is_not_sent_again(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking, _ = await cancelled_with_refund(client, sandbox, TIMES_OUT_UNPAID)
    assert await reconciled_later(client, sandbox) == 1
    failed = await stored_payment(booking["payment_id"])
    assert [(refund.status, refund.note) for refund in failed.refunds] == [("failed", "M-Pesa: Failed")]
    assert failed.refunded_minor == 0
    assert await balance(REFUNDS_PAYABLE) == -booking["price"]["total_minor"]
    assert await reconciled_later(client, sandbox) == 0
    assert len(daraja(sandbox).b2c_payments) == 1


async def test_a_partial_refund_answered_twice_and_asked_about_counts_once(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking, originator_id = await cancelled_with_refund(
        client, sandbox, RESULT_TWICE, start_in_days=5, cancellation_policy=FULL_THEN_HALF
    )
    partly = await stored_payment(booking["payment_id"])
    due = partly.refunds[0].requested_minor
    assert 0 < due < booking["price"]["total_minor"]
    result = daraja(sandbox).callbacks[-1]
    again = await asyncio.gather(*(client.post(path_of(client, result.url), data=result.body) for _ in range(3)))
    assert {answer.status for answer in again} == {200}
    refunded = await stored_payment(booking["payment_id"])
    assert (refunded.status, refunded.refunded_minor) == ("partially_refunded", due)
    assert await LedgerEntry.find({"cause.payment_id": booking["payment_id"], "kind": "refund"}).count() == 1
    assert await balance(MPESA) == booking["price"]["total_minor"] - due
    assert await ledger_problems() == []


async def test_a_reversal_whose_result_timed_out_is_settled_by_a_status_query(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    emulator = daraja(sandbox)
    reversed_late = await pay_bill(emulator, TIMES_OUT_AFTER_PAYING, 700, "NOSUCHREF", validated=False)
    never_reversed = await pay_bill(emulator, TIMES_OUT_UNPAID, 800, "NOSUCHREF", validated=False)
    _, admin = await signed_in(client, "admin")
    for item in (await (await client.get("/v1/admin/paybill/unmatched", headers=admin)).json())["items"]:
        answer = await client.post(
            f"/v1/admin/paybill/{item['id']}/refund", headers=admin, json={"note": "nobody claims it"}
        )
        assert answer.status == 200
    # Both reversals time out in Daraja's queue.
    before = len(emulator.callbacks)
    assert post_pending_results(emulator) == 2
    await delivered(client.app, emulator.notifications, before + 2)
    assert {p.status for p in await PaybillPayment.find({}).to_list()} == {"refunding"}

    assert await reconciled_later(client, sandbox) == 2
    returned = await PaybillPayment.find_one({"trans_id": reversed_late.trans_id})
    still = await PaybillPayment.find_one({"trans_id": never_reversed.trans_id})
    assert (returned.status, still.status) == ("refunded", "refunding")
    assert await balance(SUSPENSE) == -80_000 and await balance(MPESA) == 80_000
    assert await ledger_problems() == []
