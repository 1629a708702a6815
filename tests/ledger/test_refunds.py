"""Refunds in the ledger: what falls due is taken back from the host and the commission in proportion, what is sent
leaves the vendor's cash, never more than was collected, however refunds race; a cancelled event's refunds post."""

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.ledger.accounts import FX_CONVERSION, PLATFORM_REVENUE, REFUNDS_PAYABLE, cash, host_payable
from gateway.payments.refunds import record_vendor_refund, request_refund
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from tests.hosted_events.test_cancellation import cancel, paid_order, run_cancellation_job
from tests.ledger.books import balance, kinds_of, ledger_problems
from tests.ledger.test_collection import ten_percent
from tests.payments.conftest import delivered, held_booking, pay, stored_payment
from tests.payments.test_cards_and_refunds import FULL_THEN_HALF, paid_by_card
from tests.payments.test_mpesa import settle_push
from tests.tickets.builders import event_on_sale


async def test_a_cancelled_card_booking_returns_everything_and_the_books_come_back_to_zero(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    total, fee = booking["price"]["total_minor"], ten_percent(booking["price"]["total_minor"])
    payment = await paid_by_card(client, sandbox, booking)
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["agent"])
    assert cancelled.status == 200
    # Stripe's own charge.refunded event arrives too and posts nothing more.
    await delivered(client.app, sandbox.stripe.notifications, 2)

    assert await kinds_of(payment["id"]) == ["payment_collected", "commission", "reversal", "refund"]
    for account in (cash("stripe"), PLATFORM_REVENUE, host_payable(booking["agent_id"]), REFUNDS_PAYABLE):
        assert await balance(account) == 0, account
    assert await ledger_problems() == []
    earnings = (await (await client.get("/v1/me/earnings", headers=booking["agent"])).json())["currencies"][0]
    assert (earnings["gross_minor"], earnings["commission_minor"], earnings["refunded_minor"]) == (total, fee, total - fee)
    assert (earnings["earned_minor"], earnings["pending_minor"]) == (0, 0)


async def test_a_late_guest_cancellation_takes_back_commission_and_earnings_in_proportion(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client, start_in_days=5, cancellation_policy=FULL_THEN_HALF)
    total, fee = booking["price"]["total_minor"], ten_percent(booking["price"]["total_minor"])
    await paid_by_card(client, sandbox, booking)
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["guest"])
    due = (await cancelled.json())["refund_due_minor"]
    assert 0 < due < total

    commission_back = fee * due // total
    assert await balance(PLATFORM_REVENUE) == -(fee - commission_back)
    assert await balance(host_payable(booking["agent_id"])) == -((total - fee) - (due - commission_back))
    assert await balance(cash("stripe")) == total - due
    assert await balance(REFUNDS_PAYABLE) == 0
    assert await ledger_problems() == []


async def test_an_mpesa_refund_left_to_finance_stays_owed_in_refunds_payable(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    total = booking["price"]["total_minor"]
    payment = await pay(client, booking)
    await settle_push(client, sandbox, payment)
    await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=booking["agent"])

    assert await kinds_of(payment["id"]) == ["payment_collected", "commission", "reversal"]
    assert await balance(REFUNDS_PAYABLE) == -total
    assert await balance(cash("mpesa")) == total
    assert await balance(host_payable(booking["agent_id"])) == 0
    assert await ledger_problems() == []


async def test_refunds_racing_for_one_payment_never_return_more_than_was_collected(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    total = booking["price"]["total_minor"]
    payment = await paid_by_card(client, sandbox, booking)
    collected = await stored_payment(payment["id"])
    services = client.app[SERVICES]
    share = total * 6 // 10

    await asyncio.gather(*(request_refund(services, collected, share, "goodwill", f"goodwill-{n}") for n in range(3)))
    await services.payments.finish_background_work()

    refunded = await stored_payment(payment["id"])
    assert sorted(refund.requested_minor for refund in refunded.refunds) == [total - share, share]
    assert (refunded.status, refunded.refunded_minor, refunded.refunds_owed_minor) == ("refunded", total, total)
    # Two refunds fall due; Stripe's answers may report them sent one by one or both at once.
    kinds = await kinds_of(payment["id"])
    assert kinds[:2] == ["payment_collected", "commission"] and kinds.count("reversal") == 2 and "refund" in kinds
    assert await balance(cash("stripe")) == 0
    assert await balance(host_payable(booking["agent_id"])) == 0
    assert await ledger_problems() == []
    # Nothing is left to return: another refund records nothing and posts nothing.
    await request_refund(services, refunded, 1, "one more", "goodwill-late")
    assert await kinds_of(payment["id"]) == kinds


async def test_a_refund_made_at_stripe_and_never_asked_here_falls_due_and_is_returned(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    total = booking["price"]["total_minor"]
    payment = await paid_by_card(client, sandbox, booking)
    reference = (await stored_payment(payment["id"])).provider_reference
    sandbox.stripe.refund({"payment_intent": reference, "amount": str(total // 4)})
    await delivered(client.app, sandbox.stripe.notifications, 2)

    refunded = await stored_payment(payment["id"])
    assert (refunded.status, refunded.refunded_minor, refunded.refunds_owed_minor) == ("partially_refunded", total // 4, total // 4)
    assert await kinds_of(payment["id"]) == ["payment_collected", "commission", "reversal", "refund"]
    assert await balance(cash("stripe")) == total - total // 4
    assert await balance(REFUNDS_PAYABLE) == 0
    assert await ledger_problems() == []


async def test_partial_statements_that_together_return_everything_leave_the_payment_refunded(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    # Two refunds answered at once: the answer to the first, read after the second had succeeded, sums both but says
    # "partial"; the second's "full" then finds nothing new. The payment must still read refunded.
    booking = await held_booking(client)
    total = booking["price"]["total_minor"]
    payment = await paid_by_card(client, sandbox, booking)
    services = client.app[SERVICES]

    assert await record_vendor_refund(services, await stored_payment(payment["id"]), total, False, "partial") is not None
    assert await record_vendor_refund(services, await stored_payment(payment["id"]), total, True, "full") is None

    refunded = await stored_payment(payment["id"])
    assert (refunded.status, refunded.refunded_minor) == ("refunded", total)
    assert await ledger_problems() == []


async def test_a_cancelled_events_refunds_post_and_its_order_showed_the_commission(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    sale = await event_on_sale(client, quantity=20)
    by_card, card_payment = await paid_order(client, sandbox, sale, "stripe")
    _, mpesa_payment = await paid_order(client, sandbox, sale, "mpesa")
    # Two tickets at 150 000: 5% commission on tickets by config.toml.
    assert (by_card["total_minor"], by_card["platform_fee_minor"], by_card["host_earnings_minor"]) == (300_000, 15_000, 285_000)
    host = host_payable(str(sale.host.id))
    assert await balance(host) == -2 * 285_000

    await cancel(client, sale)
    await run_cancellation_job(client, sale)

    assert await kinds_of(card_payment["id"]) == ["payment_collected", "commission", "reversal", "refund"]
    assert await kinds_of(mpesa_payment["id"]) == ["payment_collected", "commission", "reversal"]
    assert await balance(host) == 0
    assert await balance(PLATFORM_REVENUE) == 0
    assert await balance(cash("stripe")) == 0
    # The M-Pesa buyer's money is owed back until it is sent.
    assert await balance(REFUNDS_PAYABLE) == -300_000
    assert await ledger_problems() == []
    # Running the job again posts nothing more.
    await run_cancellation_job(client, sale)
    assert len(await kinds_of(card_payment["id"])) == 4


async def paid_by_paypal(client: TestClient, sandbox: SandboxVendors, booking: dict[str, Any]) -> dict[str, Any]:
    payment = await pay(client, booking, "paypal")
    sandbox.paypal.approve((await stored_payment(payment["id"])).provider_reference)
    await delivered(client.app, sandbox.paypal.notifications, len(sandbox.paypal.notifications.deliveries) + 2)
    return payment


async def test_a_paypal_refund_in_dollars_returns_the_shilling_price_through_the_conversion_account(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    whole = await held_booking(client)
    payment = await paid_by_paypal(client, sandbox, whole)
    await client.post(f"/v1/bookings/{whole['id']}/cancel", headers=whole["agent"])
    await client.app[SERVICES].payments.finish_background_work()

    assert await kinds_of(payment["id"]) == ["payment_collected", "commission", "reversal", "refund"]
    for account, currency in ((cash("paypal"), "USD"), (FX_CONVERSION, "USD"), (FX_CONVERSION, "KES"),
                              (REFUNDS_PAYABLE, "KES"), (PLATFORM_REVENUE, "KES")):  # fmt: skip
        assert await balance(account, currency) == 0, (account, currency)

    late = await held_booking(client, start_in_days=5, cancellation_policy=FULL_THEN_HALF)
    partly = await paid_by_paypal(client, sandbox, late)
    await client.post(f"/v1/bookings/{late['id']}/cancel", headers=late["guest"])
    await client.app[SERVICES].payments.finish_background_work()

    refunded = await stored_payment(partly["id"])
    assert refunded.status == "partially_refunded" and 0 < refunded.refunded_minor < (refunded.charged_amount_minor or 0)
    # The dollars still at PayPal stand against the shillings the agent and the platform keep.
    assert await balance(cash("paypal"), "USD") == (refunded.charged_amount_minor or 0) - refunded.refunded_minor
    assert await balance(REFUNDS_PAYABLE) == 0
    assert await ledger_problems() == []
