"""Admins' payment pages: the newest payments or those a search names, and one payment with its refunds and the
vendor's own records of it."""

import orjson
from aiohttp import web

from gateway.payments.access import payment_for, payment_view_for
from gateway.payments.lookup import find_payments, vendor_records
from gateway.problems import Problem
from handlers.admin_accounts import ADMINS
from handlers.console.session import console_page, render_for, signed_in

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
    at = await signed_in(request, ADMINS)
    payment = await payment_for(at.caller, request.match_info["payment_id"])
    records = [
        {"record": record, "raw": orjson.dumps(record.raw, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()}
        for record in await vendor_records(at.caller, payment)
    ]
    return await render_for(request, at, "payment.html", payment=payment_view_for(at.caller, payment), records=records)
