"""Vendor webhook routes: M-Pesa callbacks, Stripe and PayPal events; each is verified, stored, then answered."""

from aiohttp import web

from gateway.jsoncodec import json_response
from gateway.payments.webhooks import check_mpesa_source, receive_webhook
from gateway.routing import ApiRoutes
from gateway.state import SERVICES

routes = ApiRoutes(tag="webhooks")
# Safaricom expects exactly this answer; anything else and it treats the callback as undelivered.
MPESA_ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
RECEIVED = {"received": True}


@routes.post(
    "/webhooks/mpesa/{token}",
    problems=(400, 403, 404),
    description="Safaricom's STK callback. The last path segment is the secret payments.mpesa.callback_token; "
    "a callback with another token, or from outside payments.mpesa.allowed_sources, is refused and not stored. "
    "A success settles the payment only when its amount, receipt and phone agree with it; otherwise only once "
    "Daraja's STK query confirms the push was paid.",
)
async def mpesa_callback(request: web.Request) -> web.Response:
    """M-Pesa STK push result"""
    check_mpesa_source(request.app[SERVICES], request.remote)
    await receive_webhook(request.app[SERVICES], "mpesa", request.headers, await request.read(), path_token=request.match_info["token"])
    return json_response(MPESA_ACCEPTED)


@routes.post("/webhooks/stripe", problems=(400, 404, 503), description="Stripe events, verified by Stripe-Signature.")
async def stripe_webhook(request: web.Request) -> web.Response:
    """Stripe event"""
    await receive_webhook(request.app[SERVICES], "stripe", request.headers, await request.read())
    return json_response(RECEIVED)


@routes.post(
    "/webhooks/paypal", problems=(400, 404, 503), description="PayPal events, verified with PayPal's verify-webhook-signature."
)
async def paypal_webhook(request: web.Request) -> web.Response:
    """PayPal event"""
    await receive_webhook(request.app[SERVICES], "paypal", request.headers, await request.read())
    return json_response(RECEIVED)
