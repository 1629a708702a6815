"""Stripe and PayPal against their in-process emulators, signed webhooks, and refunds when a paid booking is cancelled."""

import asyncio
import time

import orjson
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.payment_event import PaymentEvent
from gateway.messaging.bus import Published
from gateway.payments.refunds import request_refund
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import finish_b2c
from tests.payments.conftest import delivered, held_booking, pay, payment_statuses, stored_payment
from tests.payments.test_mpesa import settle_push
from tests.properties.builders import problem_type

FULL_THEN_HALF = {"full_refund_days": 30, "partial_refund_days": 1, "partial_refund_percent": 50}


async def paid_by_card(client: TestClient, sandbox: SandboxVendors, booking: dict) -> dict:
    payment = await pay(client, booking, "stripe")
    assert payment["status"] == "pending" and payment["client_secret"]
    stripe = sandbox.stripe
    sent_before = len(stripe.notifications.deliveries)
    stripe.confirm((await stored_payment(payment["id"])).provider_reference)
    await delivered(client.app, stripe.notifications, sent_before + 1)
    # The webhook is answered at once and applied in the background: wait for it to settle the payment.
    await client.app[SERVICES].payments.finish_background_work()
    return payment


async def test_a_card_payment_confirms_the_booking_through_the_signed_webhook(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    booking = await held_booking(client)
    payment = await paid_by_card(client, sandbox, booking)
    assert sandbox.stripe.notifications.deliveries[-1].status == 200
    settled = await stored_payment(payment["id"])
    assert settled.status == "succeeded" and settled.receipt and settled.charged_currency == "KES"
    assert (await Booking.get(booking["id"])).status == "confirmed"
    assert payment_statuses(published, payment["id"]) == ["pending", "succeeded"]


async def test_a_stripe_webhook_with_a_bad_signature_or_stale_timestamp_is_400(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking, "stripe")
    intent = sandbox.stripe.intents[(await stored_payment(payment["id"])).provider_reference]
    succeeded = {**intent, "status": "succeeded", "amount_received": intent["amount"]}
    event = {"id": "evt_lango_test_0001", "object": "event", "type": "payment_intent.succeeded", "data": {"object": succeeded}}
    body = orjson.dumps(event)
    forged = sandbox.stripe.sign(body).replace("v1=", "v1=00")
    stale = sandbox.stripe.sign(body, int(time.time()) - 3600)
    for signature in (forged, stale, ""):
        answer = await client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
        assert answer.status == 400 and await problem_type(answer) == "webhook-not-verified"
    assert await PaymentEvent.count() == 0
    assert (await stored_payment(payment["id"])).status == "pending"
    good = await client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": sandbox.stripe.sign(body)})
    assert good.status == 200
    await client.app[SERVICES].payments.finish_background_work()
    assert (await stored_payment(payment["id"])).status == "succeeded"


async def test_a_cancelled_paid_booking_is_refunded_and_the_payer_told(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    booking = await held_booking(client)
    payment = await paid_by_card(client, sandbox, booking)
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["agent"])
    assert cancelled.status == 200, await cancelled.text()
    await client.app[SERVICES].payments.finish_background_work()
    refunded = await stored_payment(payment["id"])
    assert refunded.status == "refunded" and refunded.refunded_minor == booking["price"]["total_minor"]
    assert [refund.status for refund in refunded.refunds] == ["succeeded"]
    assert payment_statuses(published, payment["id"]) == ["pending", "succeeded", "refunded"]
    # Stripe's own charge.refunded event arrives too, and changes nothing more.
    await delivered(client.app, sandbox.stripe.notifications, 2)
    assert (await stored_payment(payment["id"])).updated_at == refunded.updated_at


async def test_a_guest_cancelling_late_gets_a_partial_refund(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client, start_in_days=5, cancellation_policy=FULL_THEN_HALF)
    payment = await paid_by_card(client, sandbox, booking)
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["guest"])
    assert cancelled.status == 200
    due = (await cancelled.json())["refund_due_minor"]
    assert 0 < due < booking["price"]["total_minor"]
    refunded = await stored_payment(payment["id"])
    assert refunded.status == "partially_refunded" and refunded.refunded_minor == due


async def test_an_mpesa_refund_goes_back_to_the_paying_phone_through_b2c(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking)
    await settle_push(client, sandbox, payment)
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["agent"])
    assert cancelled.status == 200
    sent = await stored_payment(payment["id"])
    assert sent.status == "succeeded"
    assert [(refund.status, refund.requested_minor) for refund in sent.refunds] == [("pending", booking["price"]["total_minor"])]
    daraja = sandbox.daraja
    (originator_id, b2c), = daraja.b2c_payments.items()
    assert (b2c.msisdn, b2c.amount * 100) == (sent.payer_phone, booking["price"]["total_minor"])

    before = len(daraja.callbacks)
    finish_b2c(daraja, originator_id)
    await delivered(client.app, daraja.notifications, before + 1)
    result = daraja.callbacks[-1]
    again = await asyncio.gather(*(client.post(result.url.removeprefix(str(client.make_url(""))), data=result.body) for _ in range(3)))
    assert [answer.status for answer in again] == [200] * 3
    refunded = await stored_payment(payment["id"])
    assert (refunded.status, refunded.refunded_minor) == ("refunded", booking["price"]["total_minor"])
    assert [(refund.status, refund.vendor_reference) for refund in refunded.refunds] == [("succeeded", b2c.receipt)]
    assert payment_statuses(published, payment["id"]) == ["pending", "succeeded", "succeeded", "refunded"]
    refund_events = [event for event in published if event.type == "refund.updated"]
    assert [(event.data["status"], event.target) for event in refund_events] == [
        ("pending", f"user:{refunded.user_id}"), ("succeeded", f"user:{refunded.user_id}")
    ]
    assert refund_events[-1].data["vendor_reference"] == b2c.receipt
    assert (await Booking.get(booking["id"])).status == "cancelled"


async def test_paypal_is_charged_in_usd_and_captured_after_approval(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking, "paypal")
    assert payment["approve_url"] and payment["charged_currency"] == "USD"
    assert payment["charged_amount_minor"] < payment["amount_minor"]
    paypal = sandbox.paypal
    sent_before = len(paypal.notifications.deliveries)
    paypal.approve((await stored_payment(payment["id"])).provider_reference)
    # The approval webhook makes the gateway capture; the capture's own webhook follows and changes nothing.
    await delivered(client.app, paypal.notifications, sent_before + 2)
    captured = await stored_payment(payment["id"])
    assert captured.status == "succeeded" and captured.receipt
    assert (await Booking.get(booking["id"])).status == "confirmed"
    again = await client.post(f"/v1/payments/{payment['id']}/capture", headers=booking["guest"])
    assert again.status == 200 and (await again.json())["status"] == "succeeded"
    assert payment_statuses(published, payment["id"]) == ["pending", "succeeded"]


async def test_a_late_mpesa_cancellation_gets_part_back_through_b2c(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client, start_in_days=5, cancellation_policy=FULL_THEN_HALF)
    payment = await pay(client, booking)
    await settle_push(client, sandbox, payment)
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["guest"])
    due = (await cancelled.json())["refund_due_minor"]
    assert 0 < due < booking["price"]["total_minor"]
    daraja = sandbox.daraja
    (originator_id, b2c), = daraja.b2c_payments.items()
    assert b2c.amount * 100 == due
    before = len(daraja.callbacks)
    finish_b2c(daraja, originator_id)
    await delivered(client.app, daraja.notifications, before + 1)
    refunded = await stored_payment(payment["id"])
    assert (refunded.status, refunded.refunded_minor) == ("partially_refunded", due)
    # Never more than what is left: a second refund asking for everything gets only the rest.
    await request_refund(client.app[SERVICES], refunded, booking["price"]["total_minor"], "goodwill", "goodwill-1")
    second = next(b for key, b in daraja.b2c_payments.items() if key != originator_id)
    assert second.amount * 100 == booking["price"]["total_minor"] - due
