"""Admins' payment pages: the newest payments or those a search names, and one payment with its refunds and the
vendor's own records of it."""

import secrets

import orjson
from aiohttp import web

from documents.payment import COLLECTED
from gateway.payments.access import payment_for, payment_view_for
from gateway.payments.lookup import find_payments, vendor_records
from gateway.problems import Problem
from handlers.admin_accounts import ADMINS
from handlers.console.session import SignedIn, console_page, render_for, signed_in

routes = web.RouteTableDef()
PAYMENTS = "/console/payments"
PAGE_SIZE = 20


@routes.get(PAYMENTS)
@console_page
async def list_payments(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    wanted = request.query.get("q", "").strip()[:200]
    try:
        found, next_cursor = await find_payments(at.caller, wanted, request.query.get("cursor"), PAGE_SIZE)
        problem = None
    except Problem as refused:
        found, next_cursor, problem = [], None, refused
    views = [payment_view_for(at.caller, payment) for payment in found]
    return await render_for(request, at, "payments.html", wanted=wanted, payments=views, next_cursor=next_cursor, problem=problem)


@routes.get(PAYMENTS + "/{payment_id}")
@console_page
async def show_payment(request: web.Request) -> web.StreamResponse:
    """As GET /v1/payments/{id} answers an admin, with what the vendor sent about it."""
    return await payment_page(request, await signed_in(request, ADMINS), request.match_info["payment_id"])


async def payment_page(request: web.Request, at: SignedIn, payment_id: str, **outcome: object) -> web.Response:
    """The payment's page; `outcome` is what an action on it came to (a refusal is shown with its status)."""
    payment = await payment_for(at.caller, payment_id)
    records = [
        {"record": record, "raw": orjson.dumps(record.raw, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()}
        for record in await vendor_records(at.caller, payment)
    ]
    problem = outcome.get("problem")
    done = request.query.get("done")
    context = {"problem": None, "done": done if done == "refund_asked" else None, **outcome}
    return await render_for(
        request, at, "payment.html", status=problem.status if isinstance(problem, Problem) else 200,
        payment=payment_view_for(at.caller, payment), records=records,
        refundable_minor=payment.refundable_minor() if payment.status in COLLECTED else 0,
        # A new key each time the page is shown: the same form sent twice asks for one refund, two forms for two.
        refund_key=secrets.token_urlsafe(16), **context,
    )  # fmt: skip
