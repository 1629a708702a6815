"""Admins read the daily reconciliation reports at the console, as GET /v1/admin/reconciliation/reports answers them,
and download each one's CSV as GET /v1/admin/reconciliation/reports/{id}/rows.csv sends it."""

from aiohttp import web

from gateway.problems import Problem
from gateway.reconciliation.admin import report_for, reports_page
from gateway.reconciliation.run import statement_sources
from gateway.reconciliation.views import ReportView
from gateway.routing import validate
from gateway.state import SERVICES
from handlers.admin_accounts import ADMINS
from handlers.console.session import console_page, render_for, signed_in
from handlers.reconciliation import ReportsQuery, stream_csv

routes = web.RouteTableDef()
RECONCILIATION = "/console/reconciliation"
PAGE_SIZE = 30


@routes.get(RECONCILIATION)
@console_page
async def reconciliation_reports(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    services = request.app[SERVICES]
    # An empty field of the filter form means no filter.
    given = {key: value for key, value in request.query.items() if value}
    reports: list[ReportView] = []
    next_cursor, problem, query = None, None, ReportsQuery()
    try:
        query = validate(ReportsQuery, {**given, "limit": PAGE_SIZE}, location="query")  # type: ignore[assignment]
        page = await reports_page(services, at.caller, query.provider, query.day, query.cursor, query.limit)
        reports, next_cursor = page.items, page.next_cursor
    except Problem as refused:
        problem = refused
    return await render_for(
        request, at, "reconciliation.html", reports=reports, next_cursor=next_cursor, problem=problem,
        providers=sorted(statement_sources(services)), chosen_provider=query.provider or "",
        chosen_day=query.day.isoformat() if query.day else "",
    )  # fmt: skip


@routes.get(RECONCILIATION + "/{report_id:[0-9a-f]{24}}.csv")
@console_page
async def reconciliation_csv(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    return await stream_csv(request, await report_for(at.caller, request.match_info["report_id"]))
