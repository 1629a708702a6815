"""The admin route that refunds a payment, in full or in part."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from gateway.http_access import roles
from gateway.input_types import ProseText
from gateway.payments.access import payment_view_for
from gateway.payments.admin_refunds import refund_by_admin
from gateway.payments.views import PaymentView
from gateway.problems import MalformedRequest
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes, idempotency_key
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMINS = roles("admin")
# Far beyond any one payment; the refund is capped at what is left of the payment in any case.
MAX_REFUND_MINOR = 10**12


class AdminRefund(RequestModel):
    amount_minor: Annotated[int, Field(ge=1, le=MAX_REFUND_MINOR)] | None = Field(
        None, description="of the price, in its currency's minor units; leave out to refund all that is left"
    )
    reason: Annotated[
        ProseText, Field(min_length=5, max_length=500, description="kept on the refund and in the ledger")
    ]


@routes.post(
    "/v1/admin/payments/{payment_id}/refunds",
    body=AdminRefund,
    response=PaymentView,
    access=ADMINS,
    problems=(400, 404, 409),
    summary="Refund a collected payment, in full or in part",
    description="Recorded and posted to the ledger, then asked of the vendor (M-Pesa through B2C to the paying phone); "
    "the refund's status follows on the payment and in `payment.updated` events. The Idempotency-Key header is "
    "required: the same key answers the same refund, never a second one. 409 `payment-not-refundable` when the "
    "payment is not collected, nothing is left, or the amount is more than is left.",
)
async def refund_payment(request: web.Request, caller: Caller, body: AdminRefund) -> PaymentView:
    key = idempotency_key(request)
    if key is None:
        raise MalformedRequest("send an Idempotency-Key header so a retried refund is never made twice")
    services = request.app[SERVICES]
    payment = await refund_by_admin(
        services, caller, request.match_info["payment_id"], body.amount_minor, body.reason, key
    )
    return payment_view_for(caller, payment)
