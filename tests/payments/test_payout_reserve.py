"""A payout reserves what it pays in the ledger in the transaction that reads what the host is owed: a refund posting
at that moment is either seen by the payout or waits for it, never both taking the same earnings."""

from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.ledger_entry import LedgerEntry
from documents.payment import Payment
from documents.payout import Payout
from gateway.ledger.accounts import host_payable, host_receivable, payouts_in_flight
from gateway.migrations import m0005_reserve_open_payouts as reserve_open_payouts
from gateway.payouts import paying
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import finish_b2c
from tests.factories import access_token_for, auth_header, create_user
from tests.ledger.books import balance, ledger_problems
from tests.payments.test_payouts import DECLINED, PAID_AT_ONCE, Agent, daraja, earning_agent, results_delivered

_SHILLING = 100


async def test_a_refund_posting_while_a_payout_reads_the_balance_is_not_paid_out(
    client: TestClient, sandbox: SandboxVendors, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await earning_agent(client, sandbox, PAID_AT_ONCE)
    stay = await Booking.find_one({"agent_id": agent.id})
    payment = await Payment.find_one({"target_id": str(stay.id)})
    admin = auth_header(access_token_for(client.app, await create_user(client.app, roles=("admin",))))
    refunds: list[ClientResponse] = []
    read_payable = paying.payable_minor

    async def read_then_refund(*args: Any, **kwargs: Any) -> int:
        # The admin's refund of half the price posts right after the payout read what is payable, before it writes.
        payable = await read_payable(*args, **kwargs)
        if not refunds:
            refunds.append(await client.post(
                f"/v1/admin/payments/{payment.id}/refunds",
                json={"amount_minor": payment.requested_amount_minor // 2, "reason": "The water was off for a day"},
                headers={**admin, "Idempotency-Key": "refund-during-payout"},
            ))  # fmt: skip
        return payable

    monkeypatch.setattr(paying, "payable_minor", read_then_refund)
    payout = await paying.start_payout(client.app[SERVICES], agent.id, agent.later)
    assert refunds[0].status == 200
    (reversal,) = await LedgerEntry.find({"kind": "reversal", "cause.payment_id": str(payment.id)}).to_list()
    taken_back = sum(line.amount_minor for line in reversal.lines if line.account == host_payable(agent.id))
    still_owed = agent.earned - taken_back
    # The refund was taken from what the host was still owed; the payout pays what is left, in whole shillings.
    assert 0 < taken_back < agent.earned and await balance(host_receivable(agent.id)) == 0
    assert payout is not None and payout.amount_minor == still_owed - still_owed % _SHILLING

    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    assert (await Payout.get(payout.id)).status == "paid"
    # Owed the odd cents, never less than nothing: no later earnings are needed to absorb a payout of refunded money.
    assert await balance(host_payable(agent.id)) == -(still_owed % _SHILLING)
    assert await balance(payouts_in_flight(agent.id)) == 0
    assert await ledger_problems() == []


async def test_a_failed_payout_returns_its_reservation_to_what_the_host_is_owed(client: TestClient, sandbox: SandboxVendors) -> None:
    agent = await earning_agent(client, sandbox, DECLINED)
    payout = await paying.start_payout(client.app[SERVICES], agent.id, agent.later)
    assert payout is not None and payout.amount_minor == agent.earned
    assert await balance(host_payable(agent.id)) == 0
    assert await balance(payouts_in_flight(agent.id)) == -agent.earned

    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    assert (await Payout.get(payout.id)).status == "failed"
    assert await balance(host_payable(agent.id)) == -agent.earned
    assert await balance(payouts_in_flight(agent.id)) == 0
    assert await ledger_problems() == []


async def _payout_from_before_reservations(client: TestClient, sandbox: SandboxVendors) -> tuple[Agent, Payout]:
    """A payout as gateways that did not reserve left it: saved, its amount still in what the host is owed."""
    agent = await earning_agent(client, sandbox, PAID_AT_ONCE)
    payout = await Payout(user_id=agent.id, amount_minor=agent.earned, phone=PAID_AT_ONCE, open_key=agent.id).insert()
    return agent, payout


async def _paid(client: TestClient, sandbox: SandboxVendors, payout: Payout) -> None:
    sent = await paying.send_payout(client.app[SERVICES], payout)
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(sent.id))
    await results_delivered(client, sandbox, before, 1)
    assert (await Payout.get(payout.id)).status == "paid"


async def test_the_migration_reserves_payouts_already_on_their_way_once(client: TestClient, sandbox: SandboxVendors) -> None:
    agent, payout = await _payout_from_before_reservations(client, sandbox)
    database, settings = Payout.get_pymongo_collection().database, client.app[SERVICES].settings
    await reserve_open_payouts.up(database, settings)
    await reserve_open_payouts.up(database, settings)
    assert await balance(host_payable(agent.id)) == 0
    assert await balance(payouts_in_flight(agent.id)) == -agent.earned
    await _paid(client, sandbox, payout)
    assert await balance(payouts_in_flight(agent.id)) == 0 and await balance(host_payable(agent.id)) == 0
    assert await ledger_problems() == []


async def test_a_payout_never_reserved_is_paid_out_of_what_the_host_is_owed(client: TestClient, sandbox: SandboxVendors) -> None:
    agent, payout = await _payout_from_before_reservations(client, sandbox)
    await _paid(client, sandbox, payout)
    assert await balance(host_payable(agent.id)) == 0
    assert await LedgerEntry.find({"kind": "payout"}).count() == 1
    assert await ledger_problems() == []
