"""Collected money in the ledger: a paid booking posts its collection and the commission, balanced, once, whatever
callbacks, status queries and captures race to settle it; the agent sees the earnings."""

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
from aiohttp.test_utils import TestClient

from gateway.ledger.accounts import FX_CONVERSION, PLATFORM_REVENUE, cash, host_payable
from gateway.payments.reconcile import settle_from_vendor
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from tests.ledger.books import balance, entries_of, kinds_of, ledger_problems, line_sum
from tests.payments.conftest import delivered, held_booking, pay, stored_payment
from tests.payments.test_mpesa import callback_path
from tests.payments.test_mpesa_callbacks import genuine_callback
from tests.properties.builders import published_listing, signed_in


def ten_percent(total_minor: int) -> int:
    """config.toml's commission on stays: 1000 basis points, rounded half up."""
    return (total_minor * 1000 + 5000) // 10000


async def test_a_paid_booking_posts_the_collection_split_into_commission_and_the_agents_earnings(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    total, agent = booking["price"]["total_minor"], booking["agent_id"]
    fee = ten_percent(total)
    assert (booking["price"]["platform_fee_minor"], booking["price"]["host_earnings_minor"]) == (fee, total - fee)
    payment = await pay(client, booking)
    sandbox.daraja.settle_now((await stored_payment(payment["id"])).provider_reference)
    await delivered(client.app, sandbox.daraja.notifications, 1)

    assert await kinds_of(payment["id"]) == ["payment_collected", "commission"]
    assert await balance(cash("mpesa")) == total
    assert await balance(PLATFORM_REVENUE) == -fee
    assert await balance(host_payable(agent)) == -(total - fee)
    for account in (cash("mpesa"), PLATFORM_REVENUE, host_payable(agent)):
        assert await balance(account) == await line_sum(account)
    assert await ledger_problems() == []

    earnings = await client.get("/v1/me/earnings", headers=booking["agent"])
    assert earnings.status == 200
    assert (await earnings.json())["currencies"] == [{
        "currency": "KES", "gross_minor": total, "commission_minor": fee, "refunded_minor": 0,
        "earned_minor": total - fee, "paid_out_minor": 0, "pending_minor": total - fee, "payable_minor": 0,
        "on_the_way_minor": 0, "owed_by_host_minor": 0,
    }]  # fmt: skip
    # The guest earned nothing.
    assert (await (await client.get("/v1/me/earnings", headers=booking["guest"])).json())["currencies"] == []


async def test_callbacks_and_status_queries_racing_for_one_mpesa_payment_post_it_once(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking)
    stored = await stored_payment(payment["id"])
    sandbox.daraja.settle_now(stored.provider_reference)
    genuine = orjson.dumps(genuine_callback(sandbox, stored.provider_reference or ""))
    services = client.app[SERVICES]

    async def callback() -> None:
        answer = await client.post(callback_path(client), data=genuine, headers={"Content-Type": "application/json"})
        assert answer.status == 200

    await asyncio.gather(callback(), callback(), settle_from_vendor(services, stored), settle_from_vendor(services, stored))
    await services.payments.finish_background_work()

    assert (await stored_payment(payment["id"])).status == "succeeded"
    assert await kinds_of(payment["id"]) == ["payment_collected", "commission"]
    assert await balance(cash("mpesa")) == booking["price"]["total_minor"]
    assert await ledger_problems() == []


async def test_a_stripe_webhook_repeated_and_restated_while_queried_posts_once(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking, "stripe")
    stored = await stored_payment(payment["id"])
    stripe = sandbox.stripe
    stripe.confirm(stored.provider_reference)
    await delivered(client.app, stripe.notifications, 1)
    original = orjson.loads(stripe.notifications.deliveries[0].body)
    restated = orjson.dumps({**original, "id": "evt_restated_0001"})

    async def webhook(body: bytes) -> None:
        answer = await client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": stripe.sign(body)})
        assert answer.status == 200

    services = client.app[SERVICES]
    await asyncio.gather(
        webhook(stripe.notifications.deliveries[0].body), webhook(restated), settle_from_vendor(services, stored)
    )
    await services.payments.finish_background_work()

    assert await kinds_of(payment["id"]) == ["payment_collected", "commission"]
    assert await balance(cash("stripe")) == booking["price"]["total_minor"]
    assert await ledger_problems() == []


async def test_a_paypal_capture_raced_with_its_webhook_posts_once_balanced_in_each_currency(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    total = booking["price"]["total_minor"]
    payment = await pay(client, booking, "paypal")
    paypal = sandbox.paypal
    paypal.approve((await stored_payment(payment["id"])).provider_reference)
    captures = [client.post(f"/v1/payments/{payment['id']}/capture", headers=booking["guest"]) for _ in range(2)]
    answers = await asyncio.gather(*captures)
    assert {answer.status for answer in answers} == {200}
    await delivered(client.app, paypal.notifications, 2)

    settled = await stored_payment(payment["id"])
    assert settled.status == "succeeded"
    assert await kinds_of(payment["id"]) == ["payment_collected", "commission"]
    # KES owed to the agent, USD at PayPal: the conversion account holds one side of each currency.
    assert await balance(cash("paypal"), "USD") == settled.charged_amount_minor
    assert await balance(FX_CONVERSION, "USD") == -settled.charged_amount_minor
    assert await balance(FX_CONVERSION, "KES") == total
    assert await balance(host_payable(booking["agent_id"])) == -(total - ten_percent(total))
    collected = (await entries_of(payment["id"]))[0]
    assert {line.currency for line in collected.lines} == {"KES", "USD"}
    assert await ledger_problems() == []


async def test_first_collections_racing_into_accounts_not_opened_yet_all_post(client: TestClient, sandbox: SandboxVendors) -> None:
    """Four payments to one agent's listings settle at once, each opening the same balances in its own transaction."""
    agent_id, agent = await signed_in(client, "agent")
    payments, totals = [], 0
    for n in range(4):
        place = await published_listing(client, agent)
        _, guest = await signed_in(client)
        check_in = datetime.now(UTC).date() + timedelta(days=10)
        body = {"property_id": place["id"], "check_in": str(check_in), "check_out": str(check_in + timedelta(days=2)), "guests": 2}
        booking = await (await client.post("/v1/bookings", json=body, headers=guest)).json()
        totals += booking["price"]["total_minor"]
        payments.append(await pay(client, {**booking, "guest": guest}, phone=f"07123456{n:02d}"))

    for payment in payments:
        sandbox.daraja.settle_now((await stored_payment(payment["id"])).provider_reference)
    await delivered(client.app, sandbox.daraja.notifications, len(payments))

    assert [await kinds_of(payment["id"]) for payment in payments] == [["payment_collected", "commission"]] * len(payments)
    assert await balance(cash("mpesa")) == totals
    assert await balance(host_payable(agent_id)) == -(totals - sum(ten_percent(totals // 4) for _ in payments))
    assert await ledger_problems() == []
