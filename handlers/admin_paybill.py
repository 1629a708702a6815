"""Admin routes for Paybill money that matched nothing: the list, assigning one to a booking or order, returning it."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from documents.payment import PaymentPurpose
from gateway.http_access import roles
from gateway.payments.paybill_admin import assign_unmatched, refund_unmatched, unmatched_page
from gateway.payments.views import PaybillPaymentView, UnmatchedPage
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMINS = roles("admin")
PAYBILL_PAYMENT = "/v1/admin/paybill/{paybill_id}"


class UnmatchedQuery(RequestModel):
    cursor: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = Field(None, description="`next_cursor` of the previous page")
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class Assignment(RequestModel):
    purpose: PaymentPurpose
    target_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="the booking or ticket order id")]
    note: str = Field(min_length=3, max_length=500, description="why this payment belongs there (kept on the record)")


class Return(RequestModel):
    note: str = Field(min_length=3, max_length=500, description="why the money goes back (kept on the record)")


@routes.get(
    "/v1/admin/paybill/unmatched",
    query=UnmatchedQuery,
    response=UnmatchedPage,
    access=ADMINS,
    problems=(400,),
    summary="Paybill payments that matched nothing (and those being returned), newest first",
)
async def unmatched_paybill_payments(request: web.Request, caller: Caller, query: UnmatchedQuery) -> UnmatchedPage:
    items = await unmatched_page(query.cursor, query.limit)
    last = str(items[-1].id) if len(items) == query.limit else None
    return UnmatchedPage(items=[PaybillPaymentView.of(item) for item in items], next_cursor=last)


@routes.post(
    f"{PAYBILL_PAYMENT}/assign",
    body=Assignment,
    response=PaybillPaymentView,
    access=ADMINS,
    problems=(404, 409),
    summary="Settle an unmatched Paybill payment on a booking or ticket order",
    description="The target must wait for payment and owe exactly this amount (409 paybill-not-assignable "
    "otherwise, and the payment stays unmatched); a payment no longer unmatched answers 409 paybill-state-conflict.",
)
async def assign_paybill_payment(request: web.Request, caller: Caller, body: Assignment) -> PaybillPaymentView:
    settled = await assign_unmatched(
        request.app[SERVICES], caller, request.match_info["paybill_id"], body.purpose, body.target_id, body.note
    )
    return PaybillPaymentView.of(settled)


@routes.post(
    f"{PAYBILL_PAYMENT}/refund",
    body=Return,
    response=PaybillPaymentView,
    access=ADMINS,
    problems=(404, 409, 503),
    summary="Return an unmatched Paybill payment to the payer (Daraja Reversal, whole amount)",
    description="The payment becomes `refunding` until Daraja's reversal Result makes it `refunded` (or `unmatched` "
    "again, with the reason, when Daraja refuses).",
)
async def refund_paybill_payment(request: web.Request, caller: Caller, body: Return) -> PaybillPaymentView:
    refunding = await refund_unmatched(request.app[SERVICES], caller, request.match_info["paybill_id"], body.note)
    return PaybillPaymentView.of(refunding)
