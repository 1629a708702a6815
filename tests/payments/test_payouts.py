"""Paying agents their earnings over M-Pesa B2C against the in-process Daraja emulator: results duplicated and raced,
queue timeouts settled by a transaction status query, failures, and never a payout paid twice."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import orjson
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry
from documents.notification import Notification
from documents.payout import Payout
from documents.payout_destination import PayoutDestination
from gateway.ledger.accounts import PLATFORM_REVENUE, host_payable, host_receivable, payouts_in_flight
from gateway.messaging.bus import Published
from gateway.payouts.earnings import payable_minor
from gateway.payouts.holdback import earnings_now
from gateway.payouts.paying import start_payout
from gateway.payouts.schedule import pay_out_now
from gateway.payouts.views import send_payout_notice
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import DarajaSandbox, finish_b2c, finish_late_b2c, pay_bill, post_pending_results
from tests.ledger.books import ledger_problems
from tests.payments.conftest import delivered, held_booking
from tests.properties.builders import signed_in

PAID_AT_ONCE = "254711111111"
RESULT_TWICE = "254700000014"
TIMES_OUT_AFTER_PAYING = "254700000012"
TIMES_OUT_UNPAID = "254700000013"
DECLINED = "254700000011"
NO_RESULT_EVER = "254700000015"
PAID_LATE = "254700000016"


def daraja(sandbox: SandboxVendors) -> DarajaSandbox:
    assert sandbox.daraja is not None
    return sandbox.daraja


@dataclass(frozen=True)
class Agent:
    id: str
    headers: dict[str, str]
    earned: int
    # A moment after check-in plus the holdback: when the stay is payable.
    later: datetime


async def earning_agent(client: TestClient, sandbox: SandboxVendors, payout_phone: str) -> Agent:
    """An agent whose guest paid a stay (on the Paybill), with a confirmed payout phone."""
    booking = await held_booking(client)
    paid = await pay_bill(daraja(sandbox), "254712345678", booking["paybill"]["amount_minor"] // 100, booking["paybill"]["account_number"])
    assert paid.accepted
    stay = await Booking.get(booking["id"])
    assert stay.status == "confirmed"
    services = client.app[SERVICES]
    await PayoutDestination.confirm(stay.agent_id, payout_phone, services.clock() - timedelta(days=2))
    after_holdback = datetime.combine(stay.check_in, time.min, tzinfo=UTC) + timedelta(seconds=services.settings.payouts.holdback_s + 60)
    return Agent(stay.agent_id, booking["agent"], stay.price.host_earnings_minor, after_holdback)


def payout_statuses(published: list[Published], payout_id: str) -> list[str]:
    return [event.data["status"] for event in published if event.type == "payout.updated" and event.data["id"] == payout_id]


async def payout_entry_keys() -> list[str]:
    return [entry.key for entry in await LedgerEntry.find({"kind": "payout"}).sort("_id").to_list()]


async def results_delivered(client: TestClient, sandbox: SandboxVendors, before: int, count: int) -> None:
    await delivered(client.app, daraja(sandbox).notifications, before + count)


async def test_earnings_are_paid_once_whatever_number_of_results_arrive(client: TestClient, sandbox: SandboxVendors, published: list[Published]) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, RESULT_TWICE)
    assert await start_payout(services, agent.id, agent.later - timedelta(days=1)) is None  # still held back
    payout = await start_payout(services, agent.id, agent.later)
    assert (payout.status, payout.amount_minor, payout.phone) == ("sent", agent.earned, RESULT_TWICE)
    assert await start_payout(services, agent.id, agent.later) is None  # one open payout at a time

    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 2)
    result = daraja(sandbox).callbacks[-1]
    assert result.url.endswith(f"/webhooks/mpesa/b2c/result/{services.payments.mpesa_callback_token}")
    answers = await asyncio.gather(*(client.post(result.url.removeprefix(str(client.make_url(""))), data=result.body) for _ in range(5)))
    assert [answer.status for answer in answers] == [200] * 5

    paid = await Payout.get(payout.id)
    assert paid.status == "paid" and paid.receipt in daraja(sandbox).transactions
    assert payout_statuses(published, str(payout.id)) == ["pending", "sent", "paid"]
    assert daraja(sandbox).utility_balance == daraja(sandbox).settings.b2c_float - agent.earned // 100
    assert await payable_minor(agent.id, agent.later, timedelta(0)) == 0
    assert await start_payout(services, agent.id, agent.later) is None
    # The books: the agent is owed nothing more, paid out once; the platform kept its commission.
    stay = await Booking.find_one({"agent_id": agent.id})
    assert await LedgerBalance.of(host_payable(agent.id), "KES") == 0
    assert await LedgerBalance.of(PLATFORM_REVENUE, "KES") == -stay.price.platform_fee_minor != 0
    # Reserved as it started, paid out of the reservation once: nothing more however many Results came.
    assert await payout_entry_keys() == [f"payout:{payout.id}:reserved", f"payout:{payout.id}"]

    # The job queued once the payout was paid: the agent's notice carries M-Pesa's receipt.
    assert await send_payout_notice({"services": services}, payout_id=str(payout.id))
    assert await send_payout_notice({"services": services}, payout_id=str(payout.id))
    notices = await Notification.find({"user_id": agent.id, "kind": "payout_sent"}).to_list()
    assert len(notices) == 1 and paid.receipt in notices[0].body


async def test_a_timeout_is_settled_by_a_status_query_and_never_paid_twice(client: TestClient, sandbox: SandboxVendors, published: list[Published]) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, TIMES_OUT_AFTER_PAYING)
    payout = await start_payout(services, agent.id, agent.later)
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    assert (await Payout.get(payout.id)).status == "timed_out"
    # Still owed nothing more: a timed-out payout may have paid.
    assert await start_payout(services, agent.id, agent.later + timedelta(days=1)) is None

    done = await pay_out_now(services, agent.later + timedelta(days=1))
    assert done["queried"] == 1
    status_results = list(daraja(sandbox).pending_results)
    post_pending_results(daraja(sandbox))
    await results_delivered(client, sandbox, before + 1, 1)
    # The same status Result and the timeout again, raced: nothing more happens.
    url, body = status_results[0]
    timeout = daraja(sandbox).callbacks[before]
    path = lambda full: full.removeprefix(str(client.make_url("")))  # noqa: E731
    answers = await asyncio.gather(
        *(client.post(path(url), data=orjson.dumps(body)) for _ in range(3)), client.post(path(timeout.url), data=timeout.body)
    )
    assert [answer.status for answer in answers] == [200] * 4
    paid = await Payout.get(payout.id)
    assert paid.status == "paid" and paid.receipt == daraja(sandbox).transaction_for(str(payout.id)).receipt
    assert payout_statuses(published, str(payout.id)) == ["pending", "sent", "timed_out", "paid"]
    assert [t.kind for t in daraja(sandbox).transactions.values()].count("b2c") == 1
    assert await start_payout(services, agent.id, agent.later + timedelta(days=2)) is None


async def test_a_payout_mpesa_says_failed_is_failed_and_paid_anew(client: TestClient, sandbox: SandboxVendors) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, TIMES_OUT_UNPAID)
    payout = await start_payout(services, agent.id, agent.later)
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    assert (await Payout.get(payout.id)).status == "timed_out"
    assert (await pay_out_now(services, agent.later))["queried"] == 1
    assert post_pending_results(daraja(sandbox)) == 1
    await results_delivered(client, sandbox, before + 1, 1)
    failed = await Payout.get(payout.id)
    assert (failed.status, failed.reason) == ("failed", "M-Pesa: Failed")
    # Its amount is payable again: the next payout (to a phone that pays) takes it.
    await PayoutDestination.confirm(agent.id, PAID_AT_ONCE, services.clock() - timedelta(days=2))
    again = await start_payout(services, agent.id, agent.later)
    assert again is not None and again.amount_minor == agent.earned and again.id != payout.id


async def test_a_payout_mpesa_long_has_no_record_of_stays_reserved_and_is_paid_once_when_it_comes(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    services: Services = client.app[SERVICES]
    emulator = daraja(sandbox)
    agent = await earning_agent(client, sandbox, PAID_LATE)
    payout = await start_payout(services, agent.id, agent.later)
    before = len(emulator.callbacks)
    finish_b2c(emulator, str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    # Asked now and long after: M-Pesa has no record. The payout is reported, never failed, its amount reserved.
    soon = services.clock() + timedelta(minutes=10)
    assert (await pay_out_now(services, soon))["unknown_yet"] == 1
    report_after = timedelta(seconds=services.settings.payouts.report_unknown_after_s + 60)
    assert (await pay_out_now(services, soon + report_after))["reported_unknown"] == 1
    assert (await pay_out_now(services, soon + report_after + timedelta(minutes=10)))["unknown_yet"] == 1
    assert (await Payout.get(payout.id)).status == "timed_out"
    assert await payable_minor(agent.id, agent.later + 2 * report_after, timedelta(0)) == 0
    assert await start_payout(services, agent.id, agent.later + 2 * report_after) is None

    # M-Pesa gets round to it: its Result, twice, races a status query's Result and another payout run.
    finish_late_b2c(emulator, str(payout.id), times=2)
    await pay_out_now(services, agent.later + 3 * report_after)
    status_results = post_pending_results(emulator)
    await results_delivered(client, sandbox, before + 1, 2 + status_results)
    paid = await Payout.get(payout.id)
    assert paid.status == "paid" and paid.receipt == emulator.transaction_for(str(payout.id)).receipt
    assert payout_statuses(published, str(payout.id)) == ["pending", "sent", "timed_out", "paid"]
    assert await start_payout(services, agent.id, agent.later + 4 * report_after) is None
    assert emulator.utility_balance == emulator.settings.b2c_float - agent.earned // 100
    assert [t.kind for t in emulator.transactions.values()].count("b2c") == 1
    assert await LedgerBalance.of(host_payable(agent.id), "KES") == 0
    assert await payout_entry_keys() == [f"payout:{payout.id}:reserved", f"payout:{payout.id}"]


async def test_a_declined_payout_fails_and_its_amount_stays_payable(client: TestClient, sandbox: SandboxVendors, published: list[Published]) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, DECLINED)
    payout = await start_payout(services, agent.id, agent.later)
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    failed = await Payout.get(payout.id)
    assert (failed.status, failed.result_code) == ("failed", "8")
    assert payout_statuses(published, str(payout.id)) == ["pending", "sent", "failed"]
    assert await payable_minor(agent.id, agent.later, timedelta(0)) == agent.earned


async def test_a_result_that_never_comes_is_asked_for(client: TestClient, sandbox: SandboxVendors) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, NO_RESULT_EVER)
    payout = await start_payout(services, agent.id, agent.later)
    finish_b2c(daraja(sandbox), str(payout.id))
    before = len(daraja(sandbox).callbacks)
    await pay_out_now(services, agent.later + timedelta(hours=1))
    post_pending_results(daraja(sandbox))
    await results_delivered(client, sandbox, before, 1)
    assert (await Payout.get(payout.id)).status == "paid"


async def test_the_owner_lists_their_payouts(client: TestClient, sandbox: SandboxVendors) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, PAID_AT_ONCE)
    payout = await start_payout(services, agent.id, agent.later)
    _, stranger = await signed_in(client, "agent")
    assert (await (await client.get("/v1/payouts", headers=stranger)).json())["items"] == []
    page = await (await client.get("/v1/payouts", headers=agent.headers)).json()
    assert [(item["id"], item["status"], item["amount_minor"], item["phone"]) for item in page["items"]] == [
        (str(payout.id), "sent", agent.earned, "2547*****111")
    ]


async def test_earnings_show_what_the_holdback_keeps_what_is_payable_and_what_is_on_its_way(client: TestClient, sandbox: SandboxVendors) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, PAID_AT_ONCE)
    caller = Caller(user_id=agent.id, roles=frozenset(), session_id="test")

    async def split(now: datetime) -> tuple[int, int, int, int]:
        (kes,) = (await earnings_now(services, caller, now)).currencies
        return kes.pending_minor, kes.payable_minor, kes.on_the_way_minor, kes.paid_out_minor

    # Before check-in the stay's earnings are held back; the agent reads the same over HTTP.
    (kes,) = (await (await client.get("/v1/me/earnings", headers=agent.headers)).json())["currencies"]
    assert (kes["earned_minor"], kes["pending_minor"], kes["payable_minor"], kes["on_the_way_minor"]) == (agent.earned, agent.earned, 0, 0)
    assert await split(agent.later) == (0, agent.earned, 0, 0)
    payout = await start_payout(services, agent.id, agent.later)
    assert await split(agent.later) == (0, 0, agent.earned, 0)
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    assert await split(agent.later) == (0, 0, 0, agent.earned)


async def test_a_refund_while_a_payout_is_on_its_way_is_owed_by_the_host_not_taken_twice(client: TestClient, sandbox: SandboxVendors) -> None:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, PAID_AT_ONCE)
    payout = await start_payout(services, agent.id, agent.later)
    assert payout.status == "sent"
    # The guest's stay is cancelled before M-Pesa's Result: the payout carries the host's share already.
    stay = await Booking.find_one({"agent_id": agent.id})
    cancelled = await client.post(f"/v1/bookings/{stay.id}/cancel", headers=agent.headers)
    assert cancelled.status == 200
    assert await LedgerBalance.of(host_payable(agent.id), "KES") == 0
    assert await LedgerBalance.of(payouts_in_flight(agent.id), "KES") == -agent.earned
    assert await LedgerBalance.of(host_receivable(agent.id), "KES") == agent.earned
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    assert (await Payout.get(payout.id)).status == "paid"
    # Owed nothing, owing the refund's share back: kept from later earnings, never a second payout.
    assert await LedgerBalance.of(host_payable(agent.id), "KES") == 0
    assert await start_payout(services, agent.id, agent.later + timedelta(days=1)) is None
    assert await ledger_problems() == []
