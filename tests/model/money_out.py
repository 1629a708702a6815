"""The model's money going out and coming in off the STK path: agents' payout phones, payouts run once time has
passed, Daraja's B2C and status Results (answered, late, repeated), Paybill payments with the right or a wrong
account number, and admins assigning or returning unmatched money; with the invariants they must keep."""

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from documents.payout_destination import PayoutDestination
from providers.emulators import finish_b2c, finish_late_b2c, pay_bill, post_pending_results
from tests.model.clients import Answer, Http
from tests.model.harness import Marketplace
from tests.model.world import Paid, Person, World

# The Daraja emulator's receiving phones: paid with one Result, twice, a queue timeout after paying or without, no
# Result ever, paid late; and the phone Paybill payers pay from.
PAYOUT_PHONES = st.sampled_from(
    ["254711111111", "254700000014", "254700000012", "254700000013", "254700000015", "254700000016"]
)
PAYBILL_PAYER = "254712345678"
NODES = st.integers(min_value=0, max_value=1)
# Far enough that every stay the model books (20 to 29 days ahead) is past check-in and the holdback.
PAYOUT_TIME = st.sampled_from([timedelta(days=1), timedelta(days=40)])
INITIATOR_ROUTES = (
    "/webhooks/mpesa/b2c/",
    "/webhooks/mpesa/status/",
    "/webhooks/mpesa/reversal/",
    "/webhooks/paybill/confirmation/",
)


class MoneyOutSteps:
    """Rules of MarketplaceModel (mixed into it): what it needs of the model is its market, world, people and calls."""

    market: Marketplace
    world: World
    http: Http
    admin: Person
    agents: list[Person]
    guests: list[Person]

    _call: Callable[..., Answer]

    @rule(agent=st.integers(0, 1), phone=PAYOUT_PHONES)
    def agent_confirms_a_payout_phone(self, agent: int, phone: str) -> None:
        """Confirmed long enough ago to be paid (the code by SMS has tests of its own)."""
        user_id = self.agents[agent].user_id
        self.market.call(lambda: PayoutDestination.confirm(user_id, phone, datetime.now(UTC) - timedelta(days=2)))

    @rule(later=PAYOUT_TIME, phone=PAYOUT_PHONES)
    def payouts_run(self, later: timedelta, phone: str) -> None:
        """The payout job, once time has passed; an agent without a payout phone confirms `phone` first."""

        async def run() -> None:
            for agent in self.agents:
                if await PayoutDestination.of(agent.user_id) is None:
                    await PayoutDestination.confirm(agent.user_id, phone, datetime.now(UTC) - timedelta(days=2))
            await self.market.pay_out_later(later)

        self.market.call(run)

    @rule()
    def daraja_answers_what_it_holds(self) -> None:
        """Every B2C payment (payouts, refunds) finished as its phone's scenario says; every status and reversal
        Result waiting out the emulator's delay posted."""
        daraja = self.market.vendors.daraja

        async def answer() -> None:
            for originator_id, payment in list(daraja.b2c_payments.items()):
                if not payment.settled:
                    finish_b2c(daraja, originator_id)
            post_pending_results(daraja)

        self.market.call(answer)

    @rule(times=st.integers(1, 2))
    def mpesa_pays_late(self, times: int) -> None:
        """M-Pesa gets round to the B2C payments whose queue timed out with no record: paid now, the Result late."""
        daraja = self.market.vendors.daraja

        async def pay() -> None:
            for originator_id, payment in list(daraja.b2c_payments.items()):
                if payment.settled:
                    finish_late_b2c(daraja, originator_id, times=times)

        self.market.call(pay)

    @rule(data=st.data(), node=NODES)
    def daraja_repeats_a_result(self, data: st.DataObject, node: int) -> None:
        """A B2C, status or reversal Result, a queue timeout or a Paybill confirmation, delivered again to any node."""
        sent = [
            delivery
            for delivery in self.market.vendors.daraja.callbacks
            if any(route in delivery.url for route in INITIATOR_ROUTES)
        ]
        if not sent:
            return
        delivery = sent[data.draw(st.integers(0, 1_000)) % len(sent)]
        path = delivery.url.split("/webhooks/", 1)[1]
        self.http.post_raw(
            f"{self.market.nodes[node].url}/webhooks/{path}", delivery.body, {"Content-Type": "application/json"}
        )

    @precondition(lambda self: self.world.stays or self.world.orders)
    @rule(data=st.data(), right_account=st.booleans(), node=NODES)
    def pay_on_the_paybill(self, data: st.DataObject, right_account: bool, node: int) -> None:
        """The STK prompt never came: the payer pays the Paybill, with the account number shown, or mistyped (then
        M-Pesa, without validation, takes it all the same)."""
        targets = [("booking", s.booking_id, s.guest, "bookings") for s in self.world.stays] + \
                  [("ticket_order", o.order_id, o.buyer, "ticket-orders") for o in self.world.orders]  # fmt: skip
        purpose, target_id, payer, route = targets[-1 - data.draw(st.integers(0, len(targets) - 1))]
        answer = self._call(node, "GET", f"/v1/{route}/{target_id}", payer, expect=(200, 401, 404))
        paybill = answer.body.get("paybill") if answer.status == 200 else None
        if paybill is None:
            return
        daraja = self.market.vendors.daraja
        account = paybill["account_number"] if right_account else "WRONGREF"
        paid = self.market.call(
            lambda: pay_bill(daraja, PAYBILL_PAYER, paybill["amount_minor"] // 100, account, validated=right_account)
        )
        if paid.accepted:
            self.world.paybill_trans_ids.append(paid.trans_id)
            self._follow_paybill_payment(paid.trans_id, purpose, target_id, payer, node)

    def _follow_paybill_payment(self, trans_id: str, purpose: str, target_id: str, payer: Person, node: int) -> None:
        """A payment the Paybill money became is checked like any other."""
        found = self.market.call(
            lambda: self.market.database.payments.find_one({"provider": "mpesa", "provider_reference": trans_id})
        )
        if found is not None and all(paid.payment_id != str(found["_id"]) for paid in self.world.payments):
            self.world.payments.append(Paid(str(found["_id"]), purpose, target_id, "mpesa", node, payer, {}, True))

    @precondition(lambda self: self.world.paybill_trans_ids)
    @rule(data=st.data(), assign=st.booleans(), node=NODES)
    def admin_resolves_unmatched_money(self, data: st.DataObject, assign: bool, node: int) -> None:
        """An admin assigns money that matched nothing to the newest hold, or returns it to the payer."""
        trans_id = self.world.paybill_trans_ids[-1 - data.draw(st.integers(0, len(self.world.paybill_trans_ids) - 1))]
        received = self.market.call(lambda: self.market.database.paybill_payments.find_one({"trans_id": trans_id}))
        if received is None:
            return
        admin_route = f"/v1/admin/paybill/{received['_id']}"
        if assign and self.world.stays:
            stay = self.world.stays[-1]
            body = {"purpose": "booking", "target_id": stay.booking_id, "note": "the guest called"}
            answer = self._call(node, "POST", f"{admin_route}/assign", self.admin, json=body, expect=(200, 401, 404, 409))  # fmt: skip
            if answer.status == 200:
                self._follow_paybill_payment(trans_id, "booking", stay.booking_id, stay.guest, node)
        elif not assign:
            returned = {"note": "nobody claims it"}
            self._call(node, "POST", f"{admin_route}/refund", self.admin, json=returned, expect=(200, 401, 409, 503))  # fmt: skip


async def money_out(market: Marketplace, world: World) -> list[str]:
    """Payouts: paid exactly when posted, failed only when M-Pesa never paid them, reserved in the ledger exactly
    while on their way, and no agent paid by M-Pesa more than the ledger ever credited them; refunds through B2C never
    above what was collected; Paybill money in suspense exactly while it is unmatched or being returned."""
    db = market.database
    daraja = market.vendors.daraja
    paid_by_vendor: dict[str, int] = defaultdict(int)
    for transaction in daraja.transactions.values():
        if transaction.kind == "b2c" and transaction.status == "Completed" and transaction.originator_conversation_id:
            paid_by_vendor[transaction.originator_conversation_id] += transaction.amount * 100
    violations: list[str] = []
    for user_id in world.people:
        violations += await _payouts_of(db, user_id, paid_by_vendor)
    for paid in world.payments:
        refunded = sum(
            amount
            for originator, amount in paid_by_vendor.items()
            if originator.startswith(f"refund-{paid.payment_id}-")
        )
        payment = await db.payments.find_one({"_id": ObjectId(paid.payment_id)}, {"requested_amount_minor": 1})
        if payment is not None and refunded > payment["requested_amount_minor"]:
            violations.append(
                f"M-Pesa sent {refunded} back for payment {paid.payment_id}, which collected {payment['requested_amount_minor']}"
            )
    violations += await _suspense(db)
    return violations


async def _payouts_of(db: Any, user_id: str, paid_by_vendor: dict[str, int]) -> list[str]:
    violations: list[str] = []
    sent = unsettled = 0
    async for payout in db.payouts.find({"user_id": user_id}):
        payout_id = str(payout["_id"])
        unsettled += payout["amount_minor"] if payout["status"] in ("pending", "sent", "timed_out") else 0
        posted = await db.ledger_entries.count_documents({"key": f"payout:{payout_id}"})
        if posted != (payout["status"] == "paid"):
            violations.append(f"payout {payout_id} is {payout['status']} and posted {posted} times")
        if payout["status"] == "failed" and paid_by_vendor.get(payout_id):
            violations.append(f"payout {payout_id} was failed, and M-Pesa paid it: its amount was payable twice")
        if payout["status"] == "paid" and not paid_by_vendor.get(payout_id):
            violations.append(f"payout {payout_id} is paid, and M-Pesa has no payment for it")
        sent += paid_by_vendor.get(payout_id, 0)
    owed = await db.ledger_balances.find_one({"account": f"host_payable:{user_id}", "currency": "KES"})
    credited = -(owed["balance_minor"] - owed.get("by_kind", {}).get("payout", 0)) if owed else 0
    if sent > credited:
        violations.append(f"M-Pesa paid {user_id} {sent}, the ledger only ever credited them {credited}: paid twice")
    in_flight = await db.ledger_balances.find_one({"account": f"payouts_in_flight:{user_id}", "currency": "KES"})
    reserved = -in_flight["balance_minor"] if in_flight else 0
    if reserved != unsettled:
        violations.append(f"{user_id}'s payouts on their way carry {unsettled}, the ledger reserves {reserved}")
    return violations


async def _suspense(db: Any) -> list[str]:
    """Across the whole ledger: suspense holds exactly the Paybill money unmatched or being returned."""
    held = 0
    async for received in db.paybill_payments.find(
        {"status": {"$in": ["unmatched", "refunding"]}}, {"amount_minor": 1}
    ):
        held += received["amount_minor"]
    suspense = await db.ledger_balances.find_one({"account": "suspense", "currency": "KES"})
    balance = suspense["balance_minor"] if suspense else 0
    return [] if balance == -held else [f"suspense is {balance}, Paybill money unmatched or being returned is {held}"]
