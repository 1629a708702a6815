"""Paying on the M-Pesa Paybill (C2B) against the in-process Daraja emulator: validation, a confirmation that settles
exactly once however often it comes, and unmatched money that admins assign or return."""

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.paybill import PaybillPayment, PaybillStateConflict, PaybillStatus
from documents.payment import Payment
from gateway.messaging.bus import Published
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import DarajaSandbox, pay_bill, post_pending_results
from providers.emulators.daraja_c2b import c2b_payload
from tests.payments.conftest import booking_statuses, delivered, held_booking, pay, payment_statuses, stored_payment
from tests.properties.builders import problem_type, signed_in
from tests.tickets.builders import buyer, event_on_sale, hold

PAYER = "254712345678"


def daraja(sandbox: SandboxVendors) -> DarajaSandbox:
    assert sandbox.daraja is not None
    return sandbox.daraja


def kes(minor: int) -> int:
    return minor // 100


async def test_a_held_booking_paid_on_the_paybill_is_confirmed(client: TestClient, sandbox: SandboxVendors, published: list[Published]) -> None:
    booking = await held_booking(client)
    paybill: dict[str, Any] = booking["paybill"]
    assert paybill["business_number"] == daraja(sandbox).settings.shortcode
    assert paybill["amount_minor"] == booking["price"]["total_minor"] and len(paybill["account_number"]) == 8
    again = await (await client.get(f"/v1/bookings/{booking['id']}", headers=booking["guest"])).json()
    assert again["paybill"] == paybill
    agent_view = await (await client.get(f"/v1/bookings/{booking['id']}", headers=booking["agent"])).json()
    assert agent_view["paybill"] is None

    # Typed in lower case with a space, as people do on a phone.
    account = f"{paybill['account_number'][:4].lower()} {paybill['account_number'][4:]}"
    paid = await pay_bill(daraja(sandbox), PAYER, kes(paybill["amount_minor"]), account)
    assert paid.accepted and paid.validation == {"ResultCode": "0", "ResultDesc": "Accepted"}
    assert paid.confirmation_statuses == [200]

    confirmed = await Booking.get(booking["id"])
    assert confirmed.status == "confirmed"
    payment = await stored_payment(confirmed.payment_id)
    assert (payment.status, payment.receipt, payment.provider_reference) == ("succeeded", paid.trans_id, paid.trans_id)
    assert payment_statuses(published, confirmed.payment_id) == ["succeeded"]
    assert booking_statuses(published, booking["id"]) == ["held", "confirmed"]
    held = await (await client.get(f"/v1/bookings/{booking['id']}", headers=booking["guest"])).json()
    assert held["paybill"] is None


async def test_validation_refuses_unknown_references_and_wrong_amounts(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    paybill = booking["paybill"]
    unknown = await pay_bill(daraja(sandbox), PAYER, kes(paybill["amount_minor"]), "ZZZZZZZZ")
    short = await pay_bill(daraja(sandbox), PAYER, kes(paybill["amount_minor"]) - 1, paybill["account_number"])
    assert (unknown.accepted, unknown.validation["ResultCode"]) == (False, "C2B00012")
    assert (short.accepted, short.validation["ResultCode"]) == (False, "C2B00013")
    assert await PaybillPayment.count() == 0
    assert (await Booking.get(booking["id"])).status == "held"


async def test_racing_duplicate_confirmations_settle_once(client: TestClient, sandbox: SandboxVendors, published: list[Published]) -> None:
    booking = await held_booking(client)
    paybill = booking["paybill"]
    paid = await pay_bill(daraja(sandbox), PAYER, kes(paybill["amount_minor"]), paybill["account_number"], confirmations=6)
    assert paid.confirmation_statuses == [200] * 6
    assert await PaybillPayment.count() == 1 and await Payment.count() == 1
    payment = await Payment.find_one({})
    assert payment.status == "succeeded" and payment_statuses(published, str(payment.id)) == ["succeeded"]
    assert booking_statuses(published, booking["id"]) == ["held", "confirmed"]


async def test_a_stk_prompt_left_unanswered_gives_way_to_the_paybill(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    prompt = await pay(client, booking)
    paid = await pay_bill(daraja(sandbox), PAYER, kes(booking["paybill"]["amount_minor"]), booking["paybill"]["account_number"])
    assert paid.accepted
    assert (await stored_payment(prompt["id"])).status == "cancelled"
    confirmed = await Booking.get(booking["id"])
    assert confirmed.status == "confirmed" and confirmed.payment_id != prompt["id"]


async def test_unmatched_money_is_listed_then_assigned_or_returned(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    amount = kes(booking["paybill"]["amount_minor"])
    # Without external validation on the shortcode, M-Pesa takes whatever is paid and only confirms it.
    typo_paid = await pay_bill(daraja(sandbox), PAYER, amount, "WRONGREF", validated=False)
    stray_paid = await pay_bill(daraja(sandbox), PAYER, 700, "", validated=False)
    assert typo_paid.confirmation_statuses == stray_paid.confirmation_statuses == [200]
    _, admin = await signed_in(client, "admin")
    _, guest = await signed_in(client)
    assert (await client.get("/v1/admin/paybill/unmatched", headers=guest)).status == 403
    page = await (await client.get("/v1/admin/paybill/unmatched", headers=admin)).json()
    stray, typo = page["items"]
    assert (typo["trans_id"], typo["status"], typo["unmatched_reason"]) == (typo_paid.trans_id, "unmatched", "unknown_reference")

    wrong = await client.post(f"/v1/admin/paybill/{stray['id']}/assign", headers=admin,
                              json={"purpose": "booking", "target_id": booking["id"], "note": "guest called"})  # fmt: skip
    assert wrong.status == 409 and await problem_type(wrong) == "paybill-not-assignable"
    assigned = await client.post(f"/v1/admin/paybill/{typo['id']}/assign", headers=admin,
                                 json={"purpose": "booking", "target_id": booking["id"], "note": "guest called"})  # fmt: skip
    assert assigned.status == 200, await assigned.text()
    assert (await assigned.json())["status"] == "settled"
    assert (await Booking.get(booking["id"])).status == "confirmed"
    twice = await client.post(f"/v1/admin/paybill/{typo['id']}/assign", headers=admin,
                              json={"purpose": "booking", "target_id": booking["id"], "note": "guest called"})  # fmt: skip
    assert twice.status == 409 and await problem_type(twice) == "paybill-state-conflict"

    refunding = await client.post(f"/v1/admin/paybill/{stray['id']}/refund", headers=admin, json={"note": "nobody claims it"})
    assert refunding.status == 200 and (await refunding.json())["status"] == "refunding"
    emulator = daraja(sandbox)
    sent = len(emulator.callbacks)
    assert post_pending_results(emulator) == 1
    await delivered(client.app, emulator.notifications, sent + 1)
    returned = await PaybillPayment.find_one({"trans_id": stray_paid.trans_id})
    assert returned.status == "refunded" and returned.reversal_receipt
    assert emulator.transactions[stray_paid.trans_id].reversed_by == returned.reversal_receipt
    page = await (await client.get("/v1/admin/paybill/unmatched", headers=admin)).json()
    assert page["items"] == []


async def test_two_admins_returning_the_same_money_start_one_reversal(client: TestClient, sandbox: SandboxVendors) -> None:
    stray_paid = await pay_bill(daraja(sandbox), PAYER, 700, "", validated=False)
    stray = await PaybillPayment.find_one({"trans_id": stray_paid.trans_id})
    assert stray is not None and stray.status == PaybillStatus.UNMATCHED
    # Both read it unmatched; the move is conditional on that, so the second finds it being returned.
    first, second = await asyncio.gather(
        stray.start_refund("admin-1", "nobody claims it"), stray.start_refund("admin-2", "nobody claims it"), return_exceptions=True
    )
    moved, refused = (first, second) if isinstance(second, Exception) else (second, first)
    assert isinstance(moved, PaybillPayment) and moved.status == PaybillStatus.REFUNDING
    assert isinstance(refused, PaybillStateConflict)
    assert (refused.target, refused.current) == (PaybillStatus.REFUNDING, PaybillStatus.REFUNDING)
    # A lapsed-lease claim of money already being returned stands aside instead of raising.
    assert await stray.claim(moved.updated_at, timedelta(0), from_unmatched=True) is None
    assert (await PaybillPayment.get(stray.id)).resolved_by == moved.resolved_by


async def test_confirmations_need_the_path_token(client: TestClient, sandbox: SandboxVendors) -> None:
    body = c2b_payload(daraja(sandbox), "FORGED0001", PAYER, 700, "ANYTHING", "Mallory")
    answers = await asyncio.gather(
        client.post("/webhooks/paybill/confirmation/not-the-token-at-all", data=orjson.dumps(body)),
        client.post(f"/webhooks/paybill/confirmation/{client.app[SERVICES].payments.mpesa_callback_token}", data=b"[1]"),
    )
    assert [answer.status for answer in answers] == [400, 400]
    assert await PaybillPayment.count() == 0


async def test_a_held_ticket_order_shows_only_its_buyer_how_to_pay_it_on_the_paybill(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    sale = await event_on_sale(client, quantity=5)
    _, headers = await buyer(client.app)
    held = await hold(client, sale, headers, 2)
    order = await held.json()
    paybill = order["paybill"]
    assert paybill["business_number"] == daraja(sandbox).settings.shortcode
    assert paybill["amount_minor"] == order["total_minor"] == 300_000
    # The host may see the order, not how to pay it (the instructions name the buyer's account reference).
    host_view = await (await client.get(f"/v1/ticket-orders/{order['id']}", headers=sale.host_headers)).json()
    assert host_view["paybill"] is None

    paid = await pay_bill(daraja(sandbox), PAYER, kes(paybill["amount_minor"]), paybill["account_number"])

    assert paid.accepted and paid.confirmation_statuses == [200]
    settled = await (await client.get(f"/v1/ticket-orders/{order['id']}", headers=headers)).json()
    assert settled["status"] == "paid" and settled["paybill"] is None
