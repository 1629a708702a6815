"""Vendor webhook routes: M-Pesa callbacks, Stripe and PayPal events; each is verified, stored, then answered."""

from aiohttp import web

from gateway.payments.mpesa_refunds import refund_of
from gateway.payments.paybill_admin import apply_reversal_result, apply_reversal_status
from gateway.payments.refunds import apply_mpesa_refund_result, apply_mpesa_refund_status
from gateway.payments.webhooks import (
    answer_paybill_validation,
    check_mpesa_source,
    parse_initiator_result,
    receive_paybill_confirmation,
    receive_webhook,
)
from gateway.payouts.results import apply_b2c_result, apply_status_result
from gateway.reconciliation.b2c import apply_b2c_check_result
from gateway.responses import json_response
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


@routes.post(
    "/webhooks/mpesa/{kind:b2c|status|reversal}/{event:result|timeout}/{token}",
    problems=(400, 403, 404),
    description="Daraja's asynchronous Result of a B2C payment, a transaction status query or a reversal (`result`), "
    "or the notice that the request timed out in Safaricom's queue (`timeout`). The last segment is "
    "payments.mpesa.callback_token; sources as for the STK callback. Applying one twice changes nothing.",
)
async def mpesa_initiator_result(request: web.Request) -> web.Response:
    """M-Pesa B2C, transaction status or reversal Result"""
    services = request.app[SERVICES]
    check_mpesa_source(services, request.remote)
    timed_out = request.match_info["event"] == "timeout"
    result = parse_initiator_result(services, await request.read(), request.match_info["token"], timed_out=timed_out)
    kind = request.match_info["kind"]
    if kind == "reversal":
        await apply_reversal_result(services, result)
    elif kind == "b2c" and refund_of(result.originator_conversation_id):
        await apply_mpesa_refund_result(services, result)
    elif kind == "b2c":
        await apply_b2c_result(services, result)
    elif refund_of(result.queried_originator_conversation_id or ""):
        await apply_mpesa_refund_status(services, result)
        await apply_b2c_check_result(result)
    elif result.queried_originator_conversation_id:
        await apply_status_result(services, result)
        await apply_b2c_check_result(result)
    else:
        # A status query by receipt: a Paybill payment being reversed (the only kind asked that way).
        await apply_reversal_status(services, result)
    return json_response(MPESA_ACCEPTED)


@routes.post(
    "/webhooks/paybill/validation/{token}",
    problems=(400, 403, 404),
    description="M-Pesa asks whether to take a Paybill (C2B) payment: accepted (ResultCode 0) only when the account "
    "number is a booking's or ticket order's that waits for payment and the amount is exactly its price; otherwise "
    "C2B00012 (account), C2B00013 (amount) or C2B00015 (shortcode). Token and sources as for the STK callback (the "
    "path avoids the words Safaricom refuses in registered URLs).",
)
async def paybill_validation(request: web.Request) -> web.Response:
    """M-Pesa Paybill validation"""
    services = request.app[SERVICES]
    check_mpesa_source(services, request.remote)
    return json_response(await answer_paybill_validation(services, await request.read(), request.match_info["token"]))


@routes.post(
    "/webhooks/paybill/confirmation/{token}",
    problems=(400, 403, 404),
    description="M-Pesa confirms a Paybill (C2B) payment. Recorded once per TransID: it settles the payment of the "
    "booking or order its account number names, exactly once however often it is delivered, or is held unmatched "
    "for admins (GET /v1/admin/paybill/unmatched).",
)
async def paybill_confirmation(request: web.Request) -> web.Response:
    """M-Pesa Paybill confirmation"""
    services = request.app[SERVICES]
    check_mpesa_source(services, request.remote)
    await receive_paybill_confirmation(services, await request.read(), request.match_info["token"])
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
