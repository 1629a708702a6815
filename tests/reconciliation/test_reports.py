"""The daily reconciliation against the real emulators: each kind of mismatch a test injects shows in the day's
report, a clean day is all matched, runs replace each other without duplicating rows, and the CSV says the same."""

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aiohttp.test_utils import TestClient

from documents.ledger_entry import LedgerEntry
from documents.reconciliation import ReconciliationReport, ReconciliationRow
from gateway.reconciliation.run import reconcile_day, statement_sources
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators import pay_bill
from tests.ledger.books import balance, ledger_problems
from tests.ledger.test_routes import admin_headers
from tests.payments.conftest import held_booking, pay, stored_payment
from tests.payments.test_cards_and_refunds import paid_by_card
from tests.payments.test_mpesa import settle_push
from tests.reconciliation.days import by_status, report_rows, run_today, today


async def test_each_injected_stripe_mismatch_shows_in_the_days_report_and_its_csv(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    stripe = sandbox.stripe
    matched = await paid_by_card(client, sandbox, await held_booking(client))
    refunded_booking = await held_booking(client)
    refunded = await paid_by_card(client, sandbox, refunded_booking)
    assert (
        await client.post(f"/v1/bookings/{refunded_booking['id']}/cancel", headers=refunded_booking["agent"])
    ).status == 200
    unknown_to_stripe = await stored_payment((await paid_by_card(client, sandbox, await held_booking(client)))["id"])
    differs = await stored_payment((await paid_by_card(client, sandbox, await held_booking(client)))["id"])
    # Stripe lost one charge, shows another for one shilling less, and took a charge no payment here made.
    for transaction_id, transaction in list(stripe.balance_transactions.items()):
        if transaction["source"] == unknown_to_stripe.receipt:
            del stripe.balance_transactions[transaction_id]
        if transaction["source"] == differs.receipt:
            transaction["amount"] -= 100
    stranger = stripe.create_intent({"amount": "4200", "currency": "kes"}, "http://127.0.0.1")
    stripe.confirm(stranger["id"])
    await client.app[SERVICES].payments.finish_background_work()

    report = await run_today(client, "stripe")
    admin = await admin_headers(client)
    shown, rows = await report_rows(client, str(report.id), admin)
    found = by_status(rows)

    assert shown["status"] == "complete" and shown["runs"] == 1
    # Three movements matched, and Stripe's fee on each of the four charges it lists, the stranger's too.
    assert shown["counts"] == {
        "matched": 7,
        "missing_at_vendor": 1,
        "missing_in_ledger": 1,
        "amount_differs": 1,
        "not_checked": 0,
        "pending": 0,
    }
    (missing_at_vendor,) = found["missing_at_vendor"]
    assert (missing_at_vendor["reference"], missing_at_vendor["payment_id"]) == (
        unknown_to_stripe.receipt,
        str(unknown_to_stripe.id),
    )
    assert (missing_at_vendor["ledger_minor"], missing_at_vendor["vendor_minor"]) == (
        unknown_to_stripe.requested_amount_minor,
        None,
    )
    (missing_in_ledger,) = found["missing_in_ledger"]
    assert (missing_in_ledger["reference"], missing_in_ledger["vendor_minor"], missing_in_ledger["ledger_minor"]) == (
        stripe.intents[stranger["id"]]["latest_charge"], 4200, None)  # fmt: skip
    (amount_differs,) = found["amount_differs"]
    assert (amount_differs["reference"], amount_differs["difference_minor"]) == (differs.receipt, 100)
    (refund_row,) = [row for row in found["matched"] if row["kind"] == "refund"]
    refunded_payment = await stored_payment(refunded["id"])
    assert (refund_row["reference"], refund_row["ledger_minor"]) == (
        refunded_payment.receipt,
        -refunded_payment.requested_amount_minor,
    )
    assert {row["payment_id"] for row in found["matched"] if row["kind"] != "fee"} == {matched["id"], refunded["id"]}
    fees = {row["reference"]: row for row in found["matched"] if row["kind"] == "fee"}
    charged_fees = {t["source"]: t["fee"] for t in stripe.balance_transactions.values() if t["fee"]}
    assert {reference: -row["ledger_minor"] for reference, row in fees.items()} == charged_fees
    assert all(row["vendor_minor"] == row["ledger_minor"] for row in fees.values())
    # Mismatches come first.
    assert [row["status"] for row in rows[:3]] != ["matched"] * 3 and rows[-1]["status"] == "matched"
    (totals,) = shown["totals"]
    assert totals["difference_minor"] == unknown_to_stripe.requested_amount_minor + 100 - 4200

    download = await client.get(f"/v1/admin/reconciliation/reports/{report.id}/rows.csv", headers=admin)
    assert download.status == 200
    assert download.content_type == "text/csv"
    assert download.headers["Content-Disposition"] == f'attachment; filename="reconciliation-{today()}-stripe.csv"'
    lines = list(csv.DictReader(io.StringIO(await download.text())))
    assert len(lines) == len(rows)
    assert [line["reference"] for line in lines] == [row["reference"] for row in rows]
    (differs_line,) = [line for line in lines if line["status"] == "amount_differs"]
    assert (differs_line["day"], differs_line["provider"], differs_line["difference_minor"]) == (
        today(),
        "stripe",
        "100",
    )
    assert differs_line["ledger_minor"] == str(differs.requested_amount_minor)


async def test_a_clean_day_at_each_vendor_is_all_matched(client: TestClient, sandbox: SandboxVendors) -> None:
    by_mpesa = await pay(client, await held_booking(client))
    await settle_push(client, sandbox, by_mpesa)
    by_card = await paid_by_card(client, sandbox, await held_booking(client))
    paypal_booking = await held_booking(client)
    by_paypal = await pay(client, paypal_booking, "paypal")
    sandbox.paypal.approve((await stored_payment(by_paypal["id"])).provider_reference)
    for _ in range(200):
        if (await stored_payment(by_paypal["id"])).status == "succeeded":
            break
        await asyncio.sleep(0.02)
    admin = await admin_headers(client)

    card_fee = next(t["fee"] for t in sandbox.stripe.balance_transactions.values())
    paypal_fee = int(Decimal(next(iter(sandbox.paypal.captures.values()))["seller_receivable_breakdown"]["paypal_fee"]["value"]) * 100)
    # M-Pesa's charges are not listed per transaction; Stripe's and PayPal's fees are, each matched on its own row.
    for provider, payment, fee in (("mpesa", by_mpesa, 0), ("stripe", by_card, card_fee), ("paypal", by_paypal, paypal_fee)):
        stored = await stored_payment(payment["id"])
        report = await run_today(client, provider)
        shown, rows = await report_rows(client, str(report.id), admin)
        expected = [(stored.receipt, "collection", stored.charged_amount_minor)] + ([(stored.receipt, "fee", -fee)] if fee else [])
        assert shown["counts"]["matched"] == len(expected) and sum(shown["counts"].values()) == len(expected), (provider, shown)
        assert sorted((row["reference"], row["kind"], row["ledger_minor"]) for row in rows) == expected
        (totals,) = shown["totals"]
        assert totals["difference_minor"] == 0 and totals["currency"] == stored.charged_currency
        assert totals["ledger_minor"] == stored.charged_amount_minor - fee


async def test_a_vendor_record_the_ledger_never_saw_and_text_a_spreadsheet_would_run_are_listed_inert(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    sandbox.paypal.record_transaction("T0006", '=HYPERLINK("http://evil")', {"currency_code": "USD", "value": "12.50"})
    report = await run_today(client, "paypal")
    admin = await admin_headers(client)
    _, rows = await report_rows(client, str(report.id), admin)
    # The money is unknown to the ledger; PayPal's fee on it left the account all the same, and is posted.
    assert [(row["status"], row["kind"], row["reference"], row["vendor_minor"]) for row in rows] == [
        ("missing_in_ledger", "collection", "=HYPERLINK(\"http://evil\")", 1250),
        ("matched", "fee", "=HYPERLINK(\"http://evil\")", -93)]  # fmt: skip
    download = await (await client.get(f"/v1/admin/reconciliation/reports/{report.id}/rows.csv", headers=admin)).text()
    (line,) = [line for line in csv.DictReader(io.StringIO(download)) if line["kind"] == "collection"]
    assert line["reference"] == '\'=HYPERLINK("http://evil")'
    assert line["vendor_minor"] == "1250"


async def test_runs_of_a_day_replace_each_other_and_racing_runs_never_duplicate_rows(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    await paid_by_card(client, sandbox, await held_booking(client))
    await paid_by_card(client, sandbox, await held_booking(client))
    services = client.app[SERVICES]
    source = statement_sources(services)["stripe"]
    day = datetime.now(UTC).date()

    raced = await asyncio.gather(*(reconcile_day(services, day, source) for _ in range(4)))
    ran = [report for report in raced if report is not None]
    first = await ReconciliationReport.get(ran[0].id)
    # One report for the day; each run that got it in turn replaced the rows, one that found it held left it be.
    assert first is not None and first.runs == len(ran) and {report.id for report in ran} == {first.id}
    assert await ReconciliationReport.find({"day": today(), "provider": "stripe"}).count() == 1
    # Two collections and Stripe's fee on each, the fees posted once however many runs read them.
    assert await ReconciliationRow.find({"report_id": first.id}).count() == 4
    assert await LedgerEntry.find({"kind": "vendor_fee"}).count() == 2

    again = await run_today(client, "stripe")
    assert again.id == first.id and again.runs > first.runs
    assert await ReconciliationRow.find({"report_id": first.id}).count() == 4
    assert await LedgerEntry.find({"kind": "vendor_fee"}).count() == 2
    assert {row.run_id for row in await ReconciliationRow.find({"report_id": first.id}).to_list()} == {again.run_id}


async def test_an_mpesa_day_beyond_darajas_48_hours_fails_with_the_reason_and_keeps_no_rows(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    services = client.app[SERVICES]
    old_day = datetime(2026, 1, 5, tzinfo=UTC).date()
    report = await reconcile_day(services, old_day, statement_sources(services)["mpesa"])
    assert report is not None
    assert report.status == "failed" and report.run_id is None
    assert "mpesa could not be read" in (report.error or "")
    assert await ReconciliationRow.find({"report_id": report.id}).count() == 0


async def test_a_run_whose_claim_lapsed_is_taken_over_and_can_no_longer_publish(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    await paid_by_card(client, sandbox, await held_booking(client))
    # A run that died holding the report: its lease is already over.
    stale = await ReconciliationReport.claim(today(), "stripe", "a-run-that-died", timedelta(0))
    assert stale is not None

    fresh = await run_today(client, "stripe")

    assert fresh.id == stale.id and (fresh.status, fresh.runs, fresh.claim_id) == ("complete", 1, None)
    assert not await stale.publish("a-run-that-died", "its-rows", {}, [])
    current = await ReconciliationReport.get(fresh.id)
    assert current is not None and current.run_id == fresh.run_id and current.runs == 1
    assert {row.run_id for row in await ReconciliationRow.find({"report_id": fresh.id}).to_list()} == {fresh.run_id}


async def test_cash_the_vendors_listing_cannot_show_is_listed_as_not_checked_and_left_out_of_the_totals(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    by_mpesa = await pay(client, await held_booking(client))
    await settle_push(client, sandbox, by_mpesa)
    admin = await admin_headers(client)
    correction = {"reason": "Float top-up recorded by finance", "lines": [
        {"account": "cash:mpesa", "currency": "KES", "amount_minor": 50_000},
        {"account": "suspense", "currency": "KES", "amount_minor": -50_000}]}  # fmt: skip
    posted = await client.post(
        "/v1/admin/ledger/adjustments", json=correction, headers={**admin, "Idempotency-Key": "float-top-up-01"}
    )
    assert posted.status == 201

    report = await run_today(client, "mpesa")
    shown, rows = await report_rows(client, str(report.id), admin)

    assert [(row["status"], row["kind"]) for row in rows] == [("matched", "collection"), ("not_checked", "other")]
    assert rows[1]["ledger_minor"] == 50_000 and rows[1]["entry_keys"] == [rows[1]["reference"]]
    (totals,) = shown["totals"]
    collected = await stored_payment(by_mpesa["id"])
    assert (totals["ledger_minor"], totals["vendor_minor"]) == (
        collected.requested_amount_minor,
        collected.requested_amount_minor,
    )


async def test_paybill_money_that_matched_nothing_is_matched_at_daraja_by_its_trans_id(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    assert sandbox.daraja is not None
    stray = await pay_bill(sandbox.daraja, "254712345678", 700, "NOSUCHREF", validated=False)
    admin = await admin_headers(client)

    report = await run_today(client, "mpesa")
    shown, rows = await report_rows(client, str(report.id), admin)

    assert [(row["status"], row["reference"], row["ledger_minor"]) for row in rows] == [
        ("matched", stray.trans_id, 70_000)]  # fmt: skip
    assert shown["counts"]["matched"] == 1 and sum(shown["counts"].values()) == 1


async def test_each_vendor_fee_is_posted_once_and_a_fee_the_vendor_changes_later_shows_as_differing(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    paid = await stored_payment((await paid_by_card(client, sandbox, await held_booking(client)))["id"])
    (transaction,) = sandbox.stripe.balance_transactions.values()
    fee = transaction["fee"]
    await run_today(client, "stripe")
    # Stripe corrects its fee after the ledger posted it.
    transaction["fee"] += 7

    report = await run_today(client, "stripe")
    _, rows = await report_rows(client, str(report.id), await admin_headers(client))

    assert sorted((row["status"], row["kind"], row["ledger_minor"], row["vendor_minor"]) for row in rows) == [
        ("amount_differs", "fee", -fee, -fee - 7),
        ("matched", "collection", paid.requested_amount_minor, paid.requested_amount_minor),
    ]
    (posted,) = await LedgerEntry.find({"kind": "vendor_fee"}).to_list()
    assert posted.key == f"vendor_fee:stripe:{transaction['id']}" and posted.cause.receipt == paid.receipt
    assert {(line.account, line.amount_minor) for line in posted.lines} == {("vendor_fees:stripe", fee), ("cash:stripe", -fee)}
    assert await balance("vendor_fees:stripe") == fee and await ledger_problems() == []
