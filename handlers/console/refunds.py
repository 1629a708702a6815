"""Admins refund a payment from its console page, in full or in part, as POST /v1/admin/payments/{id}/refunds does."""

import re
from decimal import Decimal

from aiohttp import web

from gateway.payments.admin_refunds import refund_by_admin
from gateway.problems import Problem, ValidationFailed
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.admin_refunds import ADMINS, AdminRefund
from handlers.console.payments import PAYMENTS, payment_page
from handlers.console.session import check_form_token, console_page, see_other, signed_in

routes = web.RouteTableDef()
# An amount as people type it: whole units, with at most two decimals.
AMOUNT = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
REFUND_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _minor_units(typed: str) -> int | None:
    """The typed amount in minor units; None when the field is empty (refund all that is left)."""
    typed = typed.strip().replace(",", "")
    if not typed:
        return None
    if not AMOUNT.fullmatch(typed):
        raise ValidationFailed(
            errors=[{"field": "body.amount", "message": "an amount such as 1500 or 1500.50", "code": "amount"}]
        )
    return int(Decimal(typed) * 100)


@routes.post(PAYMENTS + "/{payment_id}/refund")
@console_page
async def refund(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    form = await check_form_token(request, at.session)
    payment_id = request.match_info["payment_id"]
    try:
        if not REFUND_KEY.fullmatch(form.get("refund_key", "")):
            raise ValidationFailed(
                errors=[{"field": "body.refund_key", "message": "load the page again", "code": "key"}]
            )
        body = validate(
            AdminRefund,
            {"amount_minor": _minor_units(form.get("amount", "")), "reason": form.get("reason", "")},
            location="body",
        )
        await refund_by_admin(
            request.app[SERVICES], at.caller, payment_id, body.amount_minor, body.reason, form["refund_key"]
        )  # type: ignore[attr-defined]
    except Problem as problem:
        return await payment_page(request, at, payment_id, problem=problem)
    return see_other(f"{PAYMENTS}/{payment_id}?done=refund_asked")
