"""Payment routes: a payer starts a payment idempotently, follows it, and completes a PayPal approval."""

from aiohttp import web

from gateway.http_access import AUTHENTICATED
from gateway.payments.access import payment_for, payment_view_for
from gateway.payments.initiate import PaymentBody, start_payment
from gateway.payments.settle import capture_payment
from gateway.payments.views import PaymentView
from gateway.routing import ApiRoutes, created_response, required_idempotency_key
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="payments")
PAYMENT = "/v1/payments/{payment_id}"


@routes.post(
    "/v1/payments",
    body=PaymentBody,
    response=PaymentView,
    status=201,
    access=AUTHENTICATED,
    problems=(400, 401, 404, 409, 422, 429, 503),
    description="Pays a held booking (purpose=booking) or ticket order (purpose=ticket_order); the amount comes from "
    "the booking's or order's frozen price. The Idempotency-Key header is required: the same key and body answer the "
    "same payment (200, Idempotent-Replayed), the same key with another body is refused (422). M-Pesa needs `phone` "
    "and pushes a prompt to it; card payments answer a Stripe `client_secret` for the app to confirm (and in the "
    "sandbox a `confirm_url`, a page where the payer pays, declines or passes 3-D Secure in a browser); PayPal "
    "answers an `approve_url`. Progress arrives as `payment.updated` events on the payer's socket. STK pushes are limited "
    "per phone, per user and per client address (rate_limits.stk_pushes_per_phone, stk_pushes_per_user, "
    "stk_pushes_per_address): past one, 429 with Retry-After and nothing is pushed.",
)
async def create_payment(request: web.Request, caller: Caller, body: PaymentBody) -> web.Response:
    """Start paying for a booking or ticket order"""
    key = required_idempotency_key(request, "so a retried payment is never taken twice")
    payment, created = await start_payment(request.app[SERVICES], caller, body, key, client_address=request.remote)
    return created_response(payment_view_for(caller, payment), created)


@routes.get(PAYMENT, response=PaymentView, access=AUTHENTICATED, problems=(401, 404))
async def read_payment(request: web.Request, caller: Caller) -> PaymentView:
    """One payment, for its payer or an admin"""
    return payment_view_for(caller, await payment_for(caller, request.match_info["payment_id"]))


@routes.post(f"{PAYMENT}/capture", response=PaymentView, access=AUTHENTICATED, problems=(401, 404, 409, 503))
async def capture_approved_payment(request: web.Request, caller: Caller) -> PaymentView:
    """Complete a PayPal payment the payer approved (the gateway also does so when PayPal reports the approval)"""
    payment = await payment_for(caller, request.match_info["payment_id"], payer_only=True)
    return payment_view_for(caller, await capture_payment(request.app[SERVICES], payment))
