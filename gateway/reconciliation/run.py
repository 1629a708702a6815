"""Reconciling one UTC day with one vendor, and the jobs that do it: daily for the day before, and when an admin asks."""

import secrets
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from documents.reconciliation import ReconciliationReport, ReconciliationRow, ReportStatus, RowStatus
from gateway.jobs import JobPolicy, enqueue, every, job
from gateway.ledger.fee_entries import post_vendor_fees
from gateway.logs import get_logger
from gateway.reconciliation.b2c import check_b2c_movements, complete_rows, resum_report
from gateway.reconciliation.compare import compare, summarise
from gateway.reconciliation.ledger_side import cash_movements
from gateway.services import Services
from providers.errors import ProviderError
from providers.payments import StatementSource

log = get_logger("lango.reconciliation")
# A requested run that found the report held by another tries again this much later.
BUSY_RETRY_S = 60.0


def statement_sources(services: Services) -> dict[str, StatementSource]:
    """The configured payment vendors that list their transactions, by name."""
    return {name: p for name, p in services.payments.providers.items() if isinstance(p, StatementSource)}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


async def reconcile_day(services: Services, day: date, source: StatementSource) -> ReconciliationReport | None:
    """Compare the day's ledger with the vendor and make the result the day's report, replacing the last run's rows.
    None when another run holds the report now: runs of one day and vendor never overlap."""
    claim_id = secrets.token_hex(12)
    lease = timedelta(seconds=services.settings.reconciliation.lease_s)
    report = await ReconciliationReport.claim(day.isoformat(), source.name, claim_id, lease)
    if report is None:
        return None
    start, end = day_bounds(day)
    try:
        vendor = await source.transactions(start, end)
    except ProviderError as error:
        log.warning(
            "reconciliation: vendor listing failed", provider=source.name, day=day.isoformat(), error=str(error)
        )
        await report.give_up(claim_id, f"{source.name} could not be read: {error}")
        return await ReconciliationReport.get(report.id)
    fee_keys = await post_vendor_fees(services, source.name, vendor)
    ledger = await cash_movements(source.name, start, end, fee_keys)
    b2c = await check_b2c_movements(services, ledger)
    rows = compare(ledger, vendor, source.statement_covers, b2c)
    run_id = secrets.token_hex(12)
    if rows:
        await ReconciliationRow.insert_many([
            ReconciliationRow(report_id=report.id, run_id=run_id, status=row.status, kind=row.kind.value, reference=row.reference,
                              currency=row.currency, ledger_minor=row.ledger_minor, vendor_minor=row.vendor_minor,
                              difference_minor=row.difference_minor, payment_id=row.payment_id, entry_keys=row.entry_keys,
                              vendor_ids=row.vendor_ids)
            for row in rows
        ])  # fmt: skip
        # A Result that settled a check since it was read finds these rows only once they are written.
        await complete_rows([key for row in rows if row.status == RowStatus.PENDING for key in row.entry_keys])
    counts, totals = summarise(rows)
    if await report.publish(claim_id, run_id, counts, totals):
        await resum_report(report.id)
        # Still holding the claim, so no other run is writing rows: every row but this run's goes.
        await ReconciliationRow.find({"report_id": report.id, "run_id": {"$ne": run_id}}).delete()
        await report.release(claim_id)
        log.info("reconciled", provider=source.name, day=day.isoformat(), **counts)
    else:
        # The claim lapsed and another run took the report over: this run's rows are no one's.
        await ReconciliationRow.find({"report_id": report.id, "run_id": run_id}).delete()
    return await ReconciliationReport.get(report.id)


async def reconcile_day_everywhere(services: Services, day: date, providers: list[str] | None = None) -> dict[str, str]:
    """Each vendor's report of the day (or only `providers`'); what became of each."""
    done = {}
    for name, source in statement_sources(services).items():
        if providers is None or name in providers:
            report = await reconcile_day(services, day, source)
            done[name] = report.status.value if report else "busy"
    return done


MISMATCHES = (RowStatus.MISSING_AT_VENDOR, RowStatus.MISSING_IN_LEDGER, RowStatus.AMOUNT_DIFFERS)


async def report_summary(day: date, provider: str, outcome: str) -> tuple[str, bool]:
    """One line saying what the day's report of `provider` found, and whether it is clean (complete, no mismatch)."""
    report = await ReconciliationReport.find_one({"day": day.isoformat(), "provider": provider})
    if report is None or outcome == "busy":
        return f"{provider} {day}: another run holds the report now", False
    counts = ", ".join(f"{status.value.replace('_', ' ')} {report.counts.get(status.value, 0)}" for status in RowStatus)
    error = f" ({report.error})" if report.error else ""
    clean = (
        report.status == ReportStatus.COMPLETE
        and not report.error
        and not any(report.counts.get(s.value) for s in MISMATCHES)
    )
    return f"{provider} {day}: {report.status.value}{error}; {counts}", clean


@every("15 * * * *", timeout_s=900)
async def reconcile_yesterday(ctx: dict[str, Any]) -> dict[str, str]:
    """Hourly from reconciliation.run_after_hour_utc: the day before, for each vendor whose report is not complete."""
    services: Services = ctx["services"]
    now = services.clock()
    if now.hour < services.settings.reconciliation.run_after_hour_utc:
        return {}
    day = (now - timedelta(days=1)).date()
    # A report still waiting on Daraja's Transaction Status Results is run again: its pending checks asked anew.
    complete = {
        r.provider
        async for r in ReconciliationReport.find({"day": day.isoformat(), "status": ReportStatus.COMPLETE.value})
        if not r.counts.get(RowStatus.PENDING.value)
    }
    pending = [name for name in statement_sources(services) if name not in complete]
    return await reconcile_day_everywhere(services, day, pending) if pending else {}


async def queue_run(services: Services, day: date, providers: list[str], delay_s: float = 0) -> None:
    """A run of `day` for `providers` on a worker. Each gets a key of its own: SAQ keeps a finished job's key a while,
    and a second request in that time must still run."""
    await enqueue(services.queue, reconcile_requested_day, key=f"reconciliation:{day}:{secrets.token_hex(8)}",
                  at=time_module.time() + delay_s if delay_s else 0, day=day.isoformat(), providers=providers)  # fmt: skip


@job(JobPolicy(retries=1, timeout_s=900))
async def reconcile_requested_day(ctx: dict[str, Any], *, day: str, providers: list[str]) -> dict[str, str]:
    """An admin's run of one day: every vendor named, their reports replaced. A report another run holds is run
    again once that run is likely done, so what the admin asked for is never dropped."""
    services: Services = ctx["services"]
    done = await reconcile_day_everywhere(services, date.fromisoformat(day), providers)
    busy = [name for name, outcome in done.items() if outcome == "busy"]
    if busy:
        await queue_run(services, date.fromisoformat(day), busy, delay_s=BUSY_RETRY_S)
    return done
