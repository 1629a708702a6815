"""Whatever happens to payments, in whatever order and however often — callbacks repeated and racing, status queries,
refunds asked twice or for more than is left, refunds made at the vendor, bookings cancelled — every entry balances,
every balance is the sum of its lines, no host is owed less than nothing and no payment returns more than it took."""

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry
from documents.payment import Payment
from gateway.payments.reconcile import settle_from_vendor
from gateway.payments.refunds import request_refund
from gateway.settings import Settings
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators.daraja_state import callback_payload
from providers.emulators.stripe import StripeFailure
from tests.factories import settings_with
from tests.ledger.books import ledger_problems
from tests.payments.conftest import eventually, held_booking, pay, stored_payment
from tests.payments.test_mpesa import callback_path

PAYMENTS = st.lists(st.sampled_from(["mpesa", "stripe", "paypal"]), min_size=1, max_size=2)
WHICH = st.integers(min_value=0, max_value=1)
SHARE_BPS = st.integers(min_value=1, max_value=12_000)
COPIES = st.integers(min_value=1, max_value=3)
REFUND = st.tuples(st.just("refund"), WHICH, SHARE_BPS, st.integers(min_value=0, max_value=2))
STEP = st.one_of(
    st.tuples(st.just("deliver"), WHICH, COPIES),
    st.tuples(st.just("query"), WHICH),
    REFUND,
    REFUND,
    st.tuples(st.just("vendor_refund"), WHICH, SHARE_BPS),
    st.tuples(st.just("cancel"), WHICH, st.sampled_from(["guest", "agent"])),
)
PHONES = itertools.count(10_000_000)
# Sequential rounds of steps run concurrently.
ROUNDS = st.lists(st.lists(STEP, min_size=1, max_size=4), min_size=1, max_size=5)


@dataclass
class Paying:
    booking: dict[str, Any]
    payment_id: str
    method: str
    reference: str


class Run:
    """One example's payments, and the vendor's side of each step."""

    def __init__(self, client: TestClient, sandbox: SandboxVendors, paying: list[Paying]) -> None:
        self.client, self.sandbox, self.paying = client, sandbox, paying
        self.services = client.app[SERVICES]

    async def step(self, step: tuple[Any, ...]) -> None:
        name, which = step[0], self.paying[step[1] % len(self.paying)]
        await getattr(self, name)(which, *step[2:])

    async def deliver(self, paying: Paying, copies: int) -> None:
        """The payer pays: the vendor's notification arrives, and the same statement `copies - 1` times more."""
        if paying.method == "mpesa":
            self.sandbox.daraja.settle_now(paying.reference)
            body = orjson.dumps(callback_payload(self.sandbox.daraja.pushes[paying.reference]))
            posts = [self.client.post(callback_path(self.client), data=body, headers={"Content-Type": "application/json"})
                     for _ in range(copies - 1)]  # fmt: skip
        elif paying.method == "paypal":
            # The payer approves; PayPal's webhook makes the gateway capture, while the app asks it to capture too.
            if self.sandbox.paypal.orders[paying.reference]["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
                self.sandbox.paypal.approve(paying.reference)
            capture = f"/v1/payments/{paying.payment_id}/capture"
            posts = [self.client.post(capture, headers=paying.booking["guest"]) for _ in range(copies - 1)]
        else:
            stripe = self.sandbox.stripe
            if stripe.intents[paying.reference]["status"] != "succeeded":
                stripe.confirm(paying.reference)
            succeeded = next(e for e in stripe.events if e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == paying.reference)
            body = orjson.dumps(succeeded)
            posts = [self.client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": stripe.sign(body)})
                     for _ in range(copies - 1)]  # fmt: skip
        for answer in await asyncio.gather(*posts):
            # A capture asked before PayPal's approval reached the gateway is refused as not capturable yet.
            assert answer.status in ((200, 409) if paying.method == "paypal" else (200,)), await answer.text()

    async def query(self, paying: Paying) -> None:
        await settle_from_vendor(self.services, await stored_payment(paying.payment_id))

    async def refund(self, paying: Paying, share_bps: int, key: int) -> None:
        amount = max(1, paying.booking["price"]["total_minor"] * share_bps // 10_000)
        await request_refund(self.services, await stored_payment(paying.payment_id), amount, "property test", f"prop-{key}")

    async def vendor_refund(self, paying: Paying, share_bps: int) -> None:
        """Someone refunds at Stripe's dashboard, never asking the gateway."""
        if paying.method != "stripe" or self.sandbox.stripe.intents[paying.reference]["status"] != "succeeded":
            return
        amount = max(1, paying.booking["price"]["total_minor"] * share_bps // 10_000)
        try:
            self.sandbox.stripe.refund({"payment_intent": paying.reference, "amount": str(amount)})
        except StripeFailure:
            pass  # more than is left at Stripe: refused there, as Stripe does

    async def cancel(self, paying: Paying, who: str) -> None:
        answer = await self.client.post(f"/v1/bookings/{paying.booking['id']}/cancel", headers=paying.booking[who])
        assert answer.status in (200, 409), await answer.text()

    async def quiet(self) -> None:
        """Until every notification the vendors sent is answered and applied, and applying sent no more."""
        dispatchers = [self.sandbox.daraja.notifications, self.sandbox.stripe.notifications, self.sandbox.paypal.notifications]
        for _ in range(3):
            await eventually(lambda: all(d.in_flight == 0 for d in dispatchers), "vendor notifications answered")
            await self.services.payments.finish_background_work()


async def violations(payment_ids: list[str]) -> list[str]:
    found = await ledger_problems()
    async for owed in LedgerBalance.find({"account": {"$regex": "^host_payable:"}, "balance_minor": {"$gt": 0}}):
        found.append(f"{owed.account} is owed less than nothing: {owed.balance_minor} {owed.currency}")
    for payment_id in payment_ids:
        payment = await Payment.get(payment_id)
        assert payment is not None
        cash = sum(line.amount_minor for entry in await LedgerEntry.find({"cause.payment_id": payment_id}).to_list()
                   for line in entry.lines if line.account.startswith("cash:"))  # fmt: skip
        if cash < 0:
            found.append(f"payment {payment_id} returned {-cash} more than it collected")
        if payment.refunds_owed_minor > payment.requested_amount_minor:
            found.append(f"payment {payment_id} owes back {payment.refunds_owed_minor} of {payment.requested_amount_minor}")
        collected = await LedgerEntry.find({"key": f"payment:{payment_id}:collected"}).count()
        if collected != (payment.status.value in ("succeeded", "partially_refunded", "refunded")):
            found.append(f"payment {payment_id} is {payment.status} with {collected} collection entries")
    return found


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Every example pays from the same test address: its M-Pesa prompts must not run out.
    return settings_with(settings, "rate_limits", stk_pushes_per_address="1000/hour")


@pytest.mark.timeout(600)
@examples(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
@given(data=st.data())
async def test_any_sequence_of_payments_callbacks_and_refunds_keeps_the_books_balanced(
    client: TestClient, sandbox: SandboxVendors, data: st.DataObject
) -> None:
    methods, rounds = data.draw(PAYMENTS, "payments"), data.draw(ROUNDS, "rounds")
    # Every payer pays, in some round: before, among or after the refunds and cancellations racing it.
    for which in range(len(methods)):
        rounds[data.draw(st.integers(0, len(rounds) - 1), f"payment {which} paid in round")].append(("deliver", which, data.draw(COPIES)))
    paying = []
    for n, method in enumerate(methods):
        booking = await held_booking(client)
        # A phone of its own per payment: the prompts one phone may get are limited.
        phone = f"07{next(PHONES):08d}"
        payment = await pay(client, booking, method, phone=phone, key=f"prop-pay-{booking['id']}-{n}")
        paying.append(Paying(booking, payment["id"], method, (await stored_payment(payment["id"])).provider_reference or ""))
    run = Run(client, sandbox, paying)

    for steps in rounds:
        await asyncio.gather(*(run.step(step) for step in steps))
    await run.quiet()

    assert await violations([p.payment_id for p in paying]) == []
