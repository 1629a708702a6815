"""M-Pesa end to end against the in-process Daraja emulator: pushes, callbacks over HTTP, reconciliation."""

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.payment import Payment
from documents.payment_event import PaymentEvent
from gateway.bookings.holds import expire_lapsed_holds
from gateway.messaging.bus import Published
from gateway.payments.reconcile import reconcile_now, reconcile_payments
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators.daraja_state import callback_payload
from tests.payments.conftest import booking_statuses, delivered, held_booking, pay, payment_statuses, stored_payment
from tests.properties.builders import problem_type

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


def callback_path(client: TestClient) -> str:
    return f"/webhooks/mpesa/{client.app[SERVICES].payments.mpesa_callback_token}"


async def settle_push(client: TestClient, sandbox: SandboxVendors, payment: dict) -> None:
    """The payer answers the prompt now; wait for Safaricom's callback to reach the gateway and be applied."""
    daraja = sandbox.daraja
    assert daraja is not None
    sent_before = len(daraja.callbacks)
    daraja.settle_now((await stored_payment(payment["id"])).provider_reference)
    await delivered(client.app, daraja.notifications, sent_before + 1)


async def test_a_duplicated_callback_settles_once(client: TestClient, sandbox: SandboxVendors, published: list[Published]) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking)
    assert payment["status"] == "pending" and payment["amount_minor"] == booking["price"]["total_minor"]
    await settle_push(client, sandbox, payment)
    settled = await stored_payment(payment["id"])
    assert settled.status == "succeeded" and settled.receipt

    original = sandbox.daraja.callbacks[0]
    assert original.status == 200
    answers = await asyncio.gather(
        *(client.post(callback_path(client), data=original.body, headers={"Content-Type": "application/json"}) for _ in range(5))
    )
    assert [(answer.status, await answer.json()) for answer in answers] == [(200, ACCEPTED)] * 5
    await client.app[SERVICES].payments.finish_background_work()

    again = await stored_payment(payment["id"])
    assert (again.status, again.updated_at, again.settled_at) == ("succeeded", settled.updated_at, settled.settled_at)
    assert await PaymentEvent.find({"provider": "mpesa"}).count() == 1
    assert payment_statuses(published, payment["id"]) == ["pending", "succeeded"]
    assert booking_statuses(published, booking["id"]) == ["held", "confirmed"]
    confirmed = await Booking.get(booking["id"])
    assert confirmed.status == "confirmed" and confirmed.payment_id == payment["id"]


async def test_a_failure_after_success_and_an_unknown_payment_change_nothing(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking)
    await settle_push(client, sandbox, payment)
    settled = await stored_payment(payment["id"])
    push = sandbox.daraja.pushes[settled.provider_reference]

    late_failure = callback_payload(push)
    late_failure["Body"]["stkCallback"].update(ResultCode=1032, ResultDesc="Request cancelled by user")
    late_failure["Body"]["stkCallback"].pop("CallbackMetadata")
    unknown = callback_payload(push)
    unknown["Body"]["stkCallback"]["CheckoutRequestID"] = "ws_CO_000000000000000000000"
    for body in (late_failure, unknown):
        answer = await client.post(callback_path(client), json=body)
        assert answer.status == 200 and await answer.json() == ACCEPTED
    await client.app[SERVICES].payments.finish_background_work()

    after = await stored_payment(payment["id"])
    assert (after.status, after.updated_at, after.reason) == ("succeeded", settled.updated_at, settled.reason)
    assert (await Booking.get(booking["id"])).status == "confirmed"
    assert await Payment.count() == 1
    assert payment_statuses(published, payment["id"]) == ["pending", "succeeded"]
    # Both statements are kept as they came; only the first success was ever applied.
    assert await PaymentEvent.find({"provider": "mpesa"}).count() == 3


async def test_a_forged_callback_is_refused_and_stored_nowhere(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking)
    push = sandbox.daraja.pushes[(await stored_payment(payment["id"])).provider_reference]
    forged = await client.post("/webhooks/mpesa/not-the-secret-token-at-all", json=callback_payload(push))
    assert forged.status == 400 and await problem_type(forged) == "webhook-not-verified"
    await client.app[SERVICES].payments.finish_background_work()
    assert await PaymentEvent.count() == 0
    assert (await stored_payment(payment["id"])).status == "pending"


async def test_an_amount_that_does_not_match_is_flagged_not_settled(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking)
    push = sandbox.daraja.pushes[(await stored_payment(payment["id"])).provider_reference]
    short = callback_payload(push)
    items = short["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    items[0]["Value"] = 1.0
    answer = await client.post(callback_path(client), data=orjson.dumps(short), headers={"Content-Type": "application/json"})
    assert answer.status == 200
    await client.app[SERVICES].payments.finish_background_work()
    flagged = await stored_payment(payment["id"])
    assert flagged.status == "pending" and flagged.flagged is not None and flagged.flagged.code == "amount_mismatch"
    assert (await Booking.get(booking["id"])).status == "held"


async def test_a_missing_callback_is_settled_by_reconciliation_and_never_downgraded(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking, phone="254700000005")
    reference = (await stored_payment(payment["id"])).provider_reference
    sandbox.daraja.settle_now(reference)
    assert sandbox.daraja.callbacks == []

    # Not old enough yet: left alone.
    assert (await reconcile_now(client.app[SERVICES]))["queried"] == 0
    await Payment.get_pymongo_collection().update_one(
        {"_id": (await stored_payment(payment["id"])).id}, {"$set": {"created_at": datetime.now(UTC) - timedelta(hours=1)}}
    )
    done = await reconcile_payments({"services": client.app[SERVICES]})
    assert done["queried"] == 1
    settled = await stored_payment(payment["id"])
    assert settled.status == "succeeded"
    assert (await Booking.get(booking["id"])).status == "confirmed"
    assert payment_statuses(published, payment["id"]) == ["pending", "succeeded"]

    # The next run is throttled; a forced one finds nothing pending and changes nothing.
    assert await reconcile_payments({"services": client.app[SERVICES]}) == {}
    assert (await reconcile_now(client.app[SERVICES]))["queried"] == 0
    assert (await stored_payment(payment["id"])).updated_at == settled.updated_at


async def test_a_wrong_pin_fails_the_payment_and_the_booking_can_be_paid_again(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    booking = await held_booking(client)
    first = await pay(client, booking, phone="254700000002", key="pay-key-first")
    await settle_push(client, sandbox, first)
    failed = await stored_payment(first["id"])
    assert failed.status == "failed" and "PIN" in failed.reason
    assert (await Booking.get(booking["id"])).status == "held"
    second = await pay(client, booking, key="pay-key-second")
    assert second["id"] != first["id"] and second["status"] == "pending"
    await settle_push(client, sandbox, second)
    assert (await stored_payment(second["id"])).status == "succeeded"
    assert payment_statuses(published, first["id"]) == ["pending", "failed"]


async def test_a_payment_whose_hold_lapsed_is_expired(client: TestClient, sandbox: SandboxVendors, published: list[Published]) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking)
    assert await expire_lapsed_holds(client.app[SERVICES], now=datetime.now(UTC) + timedelta(days=1)) == 1
    done = await reconcile_now(client.app[SERVICES])
    assert done["expired"] == 1
    expired = await stored_payment(payment["id"])
    assert expired.status == "expired" and expired.active_key is None
    assert payment_statuses(published, payment["id"]) == ["pending", "expired"]


async def test_twenty_concurrent_requests_with_one_key_make_one_payment(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    body = {"purpose": "booking", "target_id": booking["id"], "method": "mpesa", "phone": "0712345678"}
    headers = {**booking["guest"], "Idempotency-Key": "one-key-for-twenty"}
    answers = await asyncio.gather(*(client.post("/v1/payments", json=body, headers=headers) for _ in range(20)))
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [200] * 19 + [201], [await answer.text() for answer in answers]
    assert len({(await answer.json())["id"] for answer in answers}) == 1
    assert await Payment.count() == 1
    assert len(sandbox.daraja.pushes) == 1

    other_body = await client.post("/v1/payments", json={**body, "phone": "0722000000"}, headers=headers)
    assert other_body.status == 422 and await problem_type(other_body) == "idempotency-key-reused"
    second_key = await client.post("/v1/payments", json=body, headers={**booking["guest"], "Idempotency-Key": "another-key-0001"})
    assert second_key.status == 409 and await problem_type(second_key) == "payment-in-progress"


async def test_only_the_guest_pays_a_held_booking_with_a_key(client: TestClient) -> None:
    booking = await held_booking(client)
    body = {"purpose": "booking", "target_id": booking["id"], "method": "mpesa", "phone": "0712345678"}
    without_key = await client.post("/v1/payments", json=body, headers=booking["guest"])
    assert without_key.status == 400
    by_agent = await client.post("/v1/payments", json=body, headers={**booking["agent"], "Idempotency-Key": "agent-pays-0001"})
    assert by_agent.status == 404
    bad_phone = await client.post(
        "/v1/payments", json={**body, "phone": "12"}, headers={**booking["guest"], "Idempotency-Key": "bad-phone-0001"}
    )
    assert bad_phone.status == 422 and await problem_type(bad_phone) == "payment-details-invalid"
    assert await Payment.count() == 0
    payment = await pay(client, booking)
    mine = await client.get(f"/v1/payments/{payment['id']}", headers=booking["guest"])
    assert mine.status == 200 and (await mine.json())["status"] == "pending"
    assert (await client.get(f"/v1/payments/{payment['id']}", headers=booking["agent"])).status == 404
