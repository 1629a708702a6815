"""M-Pesa B2C payouts and refunds in the daily reconciliation, against the Daraja emulator: each is asked of
Transaction Status, pending until its Result comes, then matched, missing at the vendor or differing in amount;
a duplicated Result or a later run changes nothing settled."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from documents.payout import Payout
from documents.reconciliation import B2cCheck, ReconciliationReport
from gateway.payouts.paying import start_payout
from gateway.reconciliation.run import reconcile_day, statement_sources
from gateway.services import Services
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import finish_b2c, post_pending_results
from tests.ledger.test_routes import admin_headers
from tests.payments.conftest import delivered, stored_payment
from tests.payments.test_mpesa_refund_status import cancelled_with_refund
from tests.payments.test_payouts import PAID_AT_ONCE, daraja, earning_agent, results_delivered
from tests.reconciliation.days import report_rows, run_today

PAYER = "254712345678"


async def paid_payout(client: TestClient, sandbox: SandboxVendors) -> Payout:
    services: Services = client.app[SERVICES]
    agent = await earning_agent(client, sandbox, PAID_AT_ONCE)
    payout = await start_payout(services, agent.id, agent.later)
    assert payout is not None
    before = len(daraja(sandbox).callbacks)
    finish_b2c(daraja(sandbox), str(payout.id))
    await results_delivered(client, sandbox, before, 1)
    paid = await Payout.get(payout.id)
    assert paid is not None and paid.status == "paid"
    return paid


async def results_posted(client: TestClient, sandbox: SandboxVendors) -> int:
    """Every Transaction Status Result the emulator holds, posted now and applied."""
    before = len(daraja(sandbox).callbacks)
    answered = post_pending_results(daraja(sandbox))
    await delivered(client.app, daraja(sandbox).notifications, before + answered)
    return answered


def rows_by_kind(rows: list[dict[str, Any]]) -> dict[str, tuple[str, int | None, int | None]]:
    return {row["kind"]: (row["status"], row["ledger_minor"], row["vendor_minor"]) for row in rows if row["kind"] != "collection"}


async def test_b2c_movements_are_pending_until_their_status_results_come_then_each_mismatch_shows(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    payout = await paid_payout(client, sandbox)
    booking, _ = await cancelled_with_refund(client, sandbox, PAYER)
    refunded = await stored_payment(booking["payment_id"])
    (refund,) = refunded.refunds
    assert refund.status == "succeeded"
    # M-Pesa shows the refund one shilling smaller than the ledger sent; the payout is in order.
    daraja(sandbox).transactions[refund.vendor_reference].amount -= 1
    admin = await admin_headers(client)

    report = await run_today(client, "mpesa")
    shown, rows = await report_rows(client, str(report.id), admin)
    assert rows_by_kind(rows) == {
        "payout": ("pending", -payout.amount_minor, None),
        "refund": ("pending", -refund.amount_minor, None),
    }
    assert shown["counts"]["pending"] == 2 and shown["counts"]["not_checked"] == 0
    # The Results arrive, twice over: the rows complete once, and the report's counts and totals with them.
    assert await results_posted(client, sandbox) == 2
    for result in [c for c in daraja(sandbox).callbacks if "/webhooks/mpesa/status/result/" in c.url]:
        again = await client.post(result.url.removeprefix(str(client.make_url(""))), data=result.body)
        assert again.status == 200

    shown, rows = await report_rows(client, str(report.id), admin)
    assert rows_by_kind(rows) == {
        "payout": ("matched", -payout.amount_minor, -payout.amount_minor),
        "refund": ("amount_differs", -refund.amount_minor, -refund.amount_minor + 100),
    }
    assert (shown["counts"]["pending"], shown["counts"]["amount_differs"]) == (0, 1)
    (totals,) = shown["totals"]
    assert totals["difference_minor"] == -100
    assert (await Payout.get(payout.id)).status == "paid"  # the payout's own status Result changed nothing

    # A later run asks nothing more of Daraja: the checks are settled, and the rows come back the same.
    again = await run_today(client, "mpesa")
    assert not daraja(sandbox).pending_results
    _, rows = await report_rows(client, str(again.id), admin)
    assert rows_by_kind(rows)["refund"][0] == "amount_differs"


async def test_a_payout_daraja_has_no_record_of_is_missing_at_the_vendor(client: TestClient, sandbox: SandboxVendors) -> None:
    payout = await paid_payout(client, sandbox)
    del daraja(sandbox).transactions[payout.receipt]

    report = await run_today(client, "mpesa")
    _, rows = await report_rows(client, str(report.id), await admin_headers(client))

    assert rows_by_kind(rows) == {"payout": ("missing_at_vendor", -payout.amount_minor, None)}
    stored = await ReconciliationReport.get(report.id)
    assert stored.counts["missing_at_vendor"] == 1 and stored.counts["pending"] == 0
    assert [check.status for check in await B2cCheck.find().to_list()] == ["missing_at_vendor"]


async def test_racing_runs_and_results_settle_each_check_once(client: TestClient, sandbox: SandboxVendors) -> None:
    payout = await paid_payout(client, sandbox)
    services: Services = client.app[SERVICES]
    source = statement_sources(services)["mpesa"]
    day = datetime.now(UTC).date()
    await asyncio.gather(*(reconcile_day(services, day, source) for _ in range(3)))
    # The Results land while another run is writing the day's rows.
    await asyncio.gather(results_posted(client, sandbox), reconcile_day(services, day, source))
    await results_posted(client, sandbox)

    (check,) = await B2cCheck.find().to_list()
    assert (check.status, check.vendor_minor) == ("matched", -payout.amount_minor)
    report = await ReconciliationReport.find_one({"provider": "mpesa"})
    shown, rows = await report_rows(client, str(report.id), await admin_headers(client))
    assert rows_by_kind(rows) == {"payout": ("matched", -payout.amount_minor, -payout.amount_minor)}
    assert (shown["counts"]["pending"], shown["counts"]["matched"]) == (0, 2)
