"""Admin routes for the daily reconciliation: reports, one report's rows, its CSV, and asking for a day to be run."""

from typing import Annotated

from aiohttp import hdrs, web
from pydantic import Field, RootModel

from documents.reconciliation import ReconciliationReport, RowStatus
from gateway.http_access import roles
from gateway.input_types import ApiDate
from gateway.reconciliation.admin import report_detail, report_for, reports_page, request_run
from gateway.reconciliation.csv_export import filename, report_csv
from gateway.reconciliation.views import ReportDetail, ReportPage, RunRequested
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMINS = roles("admin")
REPORT = "/v1/admin/reconciliation/reports/{report_id}"
CURSOR = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="`next_cursor` of the previous page")]
PROVIDER = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$", description="mpesa, stripe or paypal")]


class CsvDocument(RootModel[str]):
    """CSV (RFC 4180) with a header line: day, provider, status, kind, reference, currency, ledger_minor,
    vendor_minor, difference_minor, payment_id, entry_keys, vendor_ids."""


class ReportsQuery(RequestModel):
    provider: PROVIDER | None = None
    day: ApiDate | None = Field(None, description="only this UTC day's reports")
    cursor: CURSOR | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class RowsQuery(RequestModel):
    status: RowStatus | None = Field(None, description="only rows with this outcome")
    cursor: CURSOR | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class RunRequest(RequestModel):
    day: ApiDate = Field(description="the UTC day to reconcile again")
    provider: PROVIDER | None = Field(None, description="one vendor; every configured one when left out")


@routes.get(
    "/v1/admin/reconciliation/reports",
    query=ReportsQuery,
    response=ReportPage,
    access=ADMINS,
    problems=(400, 401, 403),
    summary="Daily reconciliation reports, newest first",
    description="One report per UTC day and payment vendor: the ledger's cash movements at the vendor set against the "
    "vendor's own listing (docs/ledger.md, Reconciliation), with rows counted by outcome and totals per currency.",
)
async def reconciliation_reports(request: web.Request, caller: Caller, query: ReportsQuery) -> ReportPage:
    return await reports_page(request.app[SERVICES], caller, query.provider, query.day, query.cursor, query.limit)


@routes.get(
    REPORT,
    query=RowsQuery,
    response=ReportDetail,
    access=ADMINS,
    problems=(400, 401, 403, 404),
    summary="One reconciliation report with a page of its rows",
    description="Rows of the last completed run: mismatches (missing_at_vendor, missing_in_ledger, amount_differs) "
    "first, then matched (vendor fees on `fee` rows of their own), then pending (M-Pesa B2C payments whose "
    "Transaction Status Result has not come yet; the Result completes them), then not_checked movements no vendor "
    "transaction stands for (an adjustment of cash).",
)
async def reconciliation_report(request: web.Request, caller: Caller, query: RowsQuery) -> ReportDetail:
    return await report_detail(
        request.app[SERVICES], caller, request.match_info["report_id"], query.status, query.cursor, query.limit
    )


@routes.get(
    REPORT + "/rows.csv",
    response=CsvDocument,
    access=ADMINS,
    problems=(401, 403, 404),
    response_content_type="text/csv",
    summary="A reconciliation report's rows as CSV",
    description="Every row of the last completed run, one line each, with a header line. Text a spreadsheet would run "
    "as a formula (starting with = + - @ or a control character) is prefixed with an apostrophe.",
)
async def reconciliation_report_csv(request: web.Request, caller: Caller) -> web.StreamResponse:
    report = await report_for(caller, request.match_info["report_id"])
    return await stream_csv(request, report)


async def stream_csv(request: web.Request, report: ReconciliationReport) -> web.StreamResponse:
    """Send a report's CSV as an attachment, a batch of lines at a time (the console's download uses it too)."""
    response = web.StreamResponse(headers={
        hdrs.CONTENT_TYPE: "text/csv; charset=utf-8",
        hdrs.CONTENT_DISPOSITION: f'attachment; filename="{filename(report)}"',
        hdrs.CACHE_CONTROL: "no-store",
    })  # fmt: skip
    await response.prepare(request)
    async for chunk in report_csv(report):
        await response.write(chunk.encode())
    await response.write_eof()
    return response


@routes.post(
    "/v1/admin/reconciliation/runs",
    body=RunRequest,
    response=RunRequested,
    status=202,
    access=ADMINS,
    problems=(400, 401, 403, 422, 429),
    summary="Reconcile a day again",
    description="Queues a run of the day for one vendor or all; each report is replaced when its run completes "
    "(`runs` grows by one). Runs of one day and vendor never overlap. Rate limited per admin "
    "(rate_limits.reconciliation_runs_per_admin) and written to the audit log.",
)
async def request_reconciliation(request: web.Request, caller: Caller, body: RunRequest) -> RunRequested:
    return await request_run(request.app[SERVICES], caller, body.day, body.provider, request.remote)
