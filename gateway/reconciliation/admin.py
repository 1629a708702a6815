"""What admins do with reconciliation: page through reports and a report's rows, and ask for a day to be run again."""

from datetime import date, timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from documents.audit import AuditEvent, AuditKind
from documents.reconciliation import ReconciliationReport, ReconciliationRow, RowStatus
from gateway.paging import newest_first
from gateway.problems import MalformedRequest, NotFound
from gateway.reconciliation.run import queue_run, statement_sources
from gateway.reconciliation.views import ReportDetail, ReportPage, ReportView, RowView, RunRequested
from gateway.security.callers import Caller, require_admin
from gateway.services import Services

REFUSAL = "too many reconciliation runs asked for; try again later"


_ADMINS_ONLY = "only admins read reconciliation reports"


async def reports_page(
    services: Services, caller: Caller, provider: str | None, day: date | None, after: str | None, limit: int
) -> ReportPage:
    require_admin(caller, _ADMINS_ONLY)
    match: dict[str, Any] = {}
    if provider:
        match["provider"] = provider
    if day:
        match["day"] = day.isoformat()
    reports, next_cursor = await newest_first(ReconciliationReport, match, after, limit)
    now = services.clock()
    return ReportPage(items=[ReportView.of(report, now) for report in reports], next_cursor=next_cursor)


async def report_for(caller: Caller, report_id: str) -> ReconciliationReport:
    require_admin(caller, _ADMINS_ONLY)
    report = await ReconciliationReport.get(PydanticObjectId(report_id)) if ObjectId.is_valid(report_id) else None
    if report is None:
        raise NotFound("no such reconciliation report")
    return report


async def report_detail(
    services: Services, caller: Caller, report_id: str, status: RowStatus | None, after: str | None, limit: int
) -> ReportDetail:
    """The report and a page of its last completed run's rows: mismatches first, then the matched."""
    report = await report_for(caller, report_id)
    match: dict[str, Any] = {"report_id": report.id, "run_id": report.run_id}
    if status:
        match["status"] = status.value
    rows, next_cursor = await newest_first(ReconciliationRow, match, after, limit) if report.run_id else ([], None)
    return ReportDetail(
        report=ReportView.of(report, services.clock()), rows=[RowView.of(row) for row in rows], next_cursor=next_cursor
    )


async def request_run(
    services: Services, caller: Caller, day: date, provider: str | None, client_address: str | None
) -> RunRequested:
    """Queue a run of `day` for one vendor or all: rate limited per admin, and written to the audit log."""
    require_admin(caller, _ADMINS_ONLY)
    if day > services.clock().date():
        raise MalformedRequest("the day has not happened yet")
    if day < services.clock().date() - timedelta(days=3 * 365):
        raise MalformedRequest("vendors list no more than three years back")
    sources = statement_sources(services)
    if provider is not None and provider not in sources:
        raise MalformedRequest(
            f"no payment vendor named {provider} is configured here; there are: {', '.join(sorted(sources)) or 'none'}"
        )
    providers = [provider] if provider else sorted(sources)
    await services.limits.hit("reconciliation_runs_per_admin", caller.user_id, refusal=REFUSAL)
    await AuditEvent.record(AuditKind.RECONCILIATION_REQUESTED, user_id=None, actor_id=PydanticObjectId(caller.user_id),
                            client_address=client_address, day=day.isoformat(), providers=providers)  # fmt: skip
    await queue_run(services, day, providers)
    return RunRequested(day=day.isoformat(), providers=providers)
