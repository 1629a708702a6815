"""Admins read the daily reconciliation reports at the console, as GET /v1/admin/reconciliation/reports answers them,
download each one's CSV as GET /v1/admin/reconciliation/reports/{id}/rows.csv sends it, and ask for a day to be run
again as POST /v1/admin/reconciliation/runs does."""

from aiohttp import web

from gateway.problems import Problem
from gateway.reconciliation.admin import report_for, reports_page, request_run
from gateway.reconciliation.run import statement_sources
from gateway.reconciliation.views import ReportView
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.admin_accounts import ADMINS
from handlers.console.session import SignedIn, check_form_token, console_page, render_for, see_other, signed_in
from handlers.reconciliation import ReportsQuery, RunRequest, stream_csv

routes = web.RouteTableDef()
RECONCILIATION = "/console/reconciliation"
PAGE_SIZE = 30


@routes.get(RECONCILIATION)
@console_page
async def reconciliation_reports(request: web.Request) -> web.StreamResponse:
    return await _reports_page(request, await signed_in(request, ADMINS))


@routes.post(RECONCILIATION)
@console_page
async def run_again(request: web.Request) -> web.StreamResponse:
    """As POST /v1/admin/reconciliation/runs: a day queued again for one vendor or all, rate limited and audited."""
    at = await signed_in(request, ADMINS)
    form = await check_form_token(request, at.session)
    given = {key: form[key] for key in ("day", "provider") if form.get(key)}
    try:
        body = validate(RunRequest, given, location="body")
        await request_run(request.app[SERVICES], at.caller, body.day, body.provider, request.remote)  # type: ignore[attr-defined]
    except Problem as problem:
        return await _reports_page(request, at, status=problem.status, problem=problem)
    return see_other(f"{RECONCILIATION}?done=queued")


async def _reports_page(
    request: web.Request, at: SignedIn, *, status: int = 200, problem: Problem | None = None
) -> web.Response:
    services = request.app[SERVICES]
    # An empty field of the filter form means no filter.
    given = {key: value for key, value in request.query.items() if value and key != "done"}
    reports: list[ReportView] = []
    next_cursor, query = None, ReportsQuery()
    try:
        query = validate(ReportsQuery, {**given, "limit": PAGE_SIZE}, location="query")  # type: ignore[assignment]
        page = await reports_page(services, at.caller, query.provider, query.day, query.cursor, query.limit)
        reports, next_cursor = page.items, page.next_cursor
    except Problem as refused:
        problem = refused
    return await render_for(
        request, at, "reconciliation.html", status=status, queued=request.query.get("done") == "queued",
        reports=reports, next_cursor=next_cursor, problem=problem, providers=sorted(statement_sources(services)),
        chosen_provider=query.provider or "",
        chosen_day=query.day.isoformat() if query.day else "",
    )  # fmt: skip


@routes.get(RECONCILIATION + "/{report_id:[0-9a-f]{24}}.csv")
@console_page
async def reconciliation_csv(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    return await stream_csv(request, await report_for(at.caller, request.match_info["report_id"]))
