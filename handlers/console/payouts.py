"""Admins follow payouts at the console: every payout newest first, by status, and retrying one, as GET
/v1/admin/payouts and POST /v1/admin/payouts/{id}/retry do."""

from aiohttp import web

from documents.payout import PayoutStatus
from gateway.payouts.admin import payouts_page, retry_payout
from gateway.payouts.views import AdminPayoutView
from gateway.problems import Problem
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.admin_payouts import ADMINS, AdminPayoutsQuery
from handlers.console.session import SignedIn, check_form_token, console_page, render_for, see_other, signed_in

routes = web.RouteTableDef()
PAYOUTS = "/console/payouts"
PAGE_SIZE = 30


async def _payouts_page(request: web.Request, at: SignedIn, **outcome: object) -> web.Response:
    chosen = {name: request.query[name] for name in ("status", "user_id") if request.query.get(name)}
    payouts: list[AdminPayoutView] = []
    next_cursor, problem = None, outcome.pop("problem", None)
    try:
        given = {**chosen, **({"cursor": request.query["cursor"]} if request.query.get("cursor") else {})}
        query = validate(AdminPayoutsQuery, {**given, "limit": PAGE_SIZE}, location="query")
        found, next_cursor = await payouts_page(at.caller, query.status, query.user_id, query.cursor, query.limit)  # type: ignore[attr-defined]
        payouts = [AdminPayoutView.of(payout) for payout in found]
    except Problem as refused:
        problem = problem or refused
    done = request.query.get("done")
    return await render_for(
        request, at, "admin_payouts.html", status=problem.status if isinstance(problem, Problem) else 200,
        payouts=payouts, next_cursor=next_cursor, problem=problem, chosen=chosen,
        statuses=[status.value for status in PayoutStatus], done=done if done == "retried" else None,
    )  # fmt: skip


@routes.get(PAYOUTS)
@console_page
async def list_payouts(request: web.Request) -> web.StreamResponse:
    return await _payouts_page(request, await signed_in(request, ADMINS))


@routes.post(PAYOUTS + "/{payout_id}/retry")
@console_page
async def retry(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    await check_form_token(request, at.session)
    try:
        await retry_payout(request.app[SERVICES], at.caller, request.match_info["payout_id"])
    except Problem as problem:
        return await _payouts_page(request, at, problem=problem)
    return see_other(f"{PAYOUTS}?done=retried")
