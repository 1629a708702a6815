"""Admins read the security audit log at the console: newest first, of one account or one kind, as GET
/v1/admin/audit answers it."""

from aiohttp import web

from documents.audit import AuditKind
from gateway.accounts.audit_log import audit_events
from gateway.accounts.views import AuditEventView
from gateway.problems import Problem
from gateway.request_models import validate
from handlers.admin_accounts import ADMINS, AuditQuery
from handlers.console.session import console_page, render_for, signed_in

routes = web.RouteTableDef()
PAGE_SIZE = 50


@routes.get("/console/audit")
@console_page
async def audit_log(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    # An empty field of the filter form means no filter.
    given = {key: value for key, value in request.query.items() if value}
    events: list[AuditEventView] = []
    next_cursor, problem, query = None, None, AuditQuery()
    try:
        query = validate(AuditQuery, {**given, "limit": PAGE_SIZE}, location="query")  # type: ignore[assignment]
        found, next_cursor = await audit_events(query.user_id, query.kind, query.cursor, query.limit)
        events = [AuditEventView.of(event) for event in found]
    except Problem as refused:
        problem = refused
    return await render_for(
        request, at, "audit.html", events=events, next_cursor=next_cursor, problem=problem, kinds=[kind.value for kind in AuditKind],
        chosen_kind=query.kind.value if query.kind else "", chosen_user=query.user_id or "",
    )  # fmt: skip
