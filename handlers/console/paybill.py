"""Admins settle Paybill money that matched nothing at the console: the list newest first, assigning one to a booking
or ticket order, returning one to the payer; each as the /v1/admin/paybill routes do it."""

from aiohttp import web

from documents.payment import PaymentPurpose
from gateway.payments.paybill_admin import assign_unmatched, refund_unmatched, unmatched_page
from gateway.payments.views import PaybillPaymentView
from gateway.problems import Problem
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.admin_paybill import ADMINS, Assignment, Return, UnmatchedQuery
from handlers.console.session import SignedIn, check_form_token, console_page, render_for, see_other, signed_in

routes = web.RouteTableDef()
PAYBILL = "/console/paybill"
PAGE_SIZE = 30
DONE = frozenset({"assigned", "refunding"})


async def _paybill_page(request: web.Request, at: SignedIn, **outcome: object) -> web.Response:
    problem = outcome.pop("problem", None)
    received: list[PaybillPaymentView] = []
    next_cursor = None
    try:
        cursor = {"cursor": request.query["cursor"]} if request.query.get("cursor") else {}
        query = validate(UnmatchedQuery, {**cursor, "limit": PAGE_SIZE}, location="query")
        found = await unmatched_page(query.cursor, query.limit)  # type: ignore[attr-defined]
        received = [PaybillPaymentView.of(item) for item in found]
        next_cursor = received[-1].id if len(found) == PAGE_SIZE else None
    except Problem as refused:
        problem = problem or refused
    done = request.query.get("done")
    return await render_for(
        request, at, "paybill.html", status=problem.status if isinstance(problem, Problem) else 200, received=received,
        next_cursor=next_cursor, problem=problem, purposes=[purpose.value for purpose in PaymentPurpose],
        done=done if done in DONE else None, **outcome,
    )  # fmt: skip


@routes.get(PAYBILL)
@console_page
async def unmatched(request: web.Request) -> web.StreamResponse:
    return await _paybill_page(request, await signed_in(request, ADMINS), failed_id=None)


@routes.post(PAYBILL + "/{paybill_id}/assign")
@console_page
async def assign(request: web.Request) -> web.StreamResponse:
    """As POST /v1/admin/paybill/{id}/assign: settled on the booking or order only if it owes exactly this amount."""
    at = await signed_in(request, ADMINS)
    form = await check_form_token(request, at.session)
    paybill_id = request.match_info["paybill_id"]
    try:
        fields = {name: form.get(name, "") for name in ("purpose", "target_id", "note")}
        body = validate(Assignment, fields, location="body")
        await assign_unmatched(request.app[SERVICES], at.caller, paybill_id, body.purpose, body.target_id, body.note)  # type: ignore[attr-defined]
    except Problem as problem:
        return await _paybill_page(request, at, problem=problem, failed_id=paybill_id)
    return see_other(f"{PAYBILL}?done=assigned")


@routes.post(PAYBILL + "/{paybill_id}/refund")
@console_page
async def refund(request: web.Request) -> web.StreamResponse:
    """As POST /v1/admin/paybill/{id}/refund: the whole amount goes back through Daraja's Reversal."""
    at = await signed_in(request, ADMINS)
    form = await check_form_token(request, at.session)
    paybill_id = request.match_info["paybill_id"]
    try:
        body = validate(Return, {"note": form.get("note", "")}, location="body")
        await refund_unmatched(request.app[SERVICES], at.caller, paybill_id, body.note)  # type: ignore[attr-defined]
    except Problem as problem:
        return await _paybill_page(request, at, problem=problem, failed_id=paybill_id)
    return see_other(f"{PAYBILL}?done=refunding")
