"""Daraja emulator and embedded M-Pesa sandbox: OAuth, STK push that calls back like Safaricom, STK query, and the
organisation APIs (B2C, transaction status, reversal, C2B, Pull Transactions) from their own modules."""

import base64
import binascii
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from providers.emulators import daraja_c2b, daraja_org, daraja_pull
from providers.emulators.daraja_certificate import InitiatorCertificate
from providers.emulators.daraja_state import (
    DARAJA_SANDBOX,
    EAT,
    MSISDN,
    RESULT_DESCRIPTIONS,
    SHORTCODE,
    DarajaSandbox,
    DarajaSettings,
    StkPush,
    StkScenario,
    bad_request,
    bearer_body,
    daraja_error,
    whole_amount,
)

_TIMESTAMP_SKEW = timedelta(minutes=10)


_TRANSACTION_TYPES = {"CustomerPayBillOnline", "CustomerBuyGoodsOnline"}


async def generate_token(request: web.Request) -> web.Response:
    sandbox = request.app[DARAJA_SANDBOX]
    if request.query.get("grant_type") != "client_credentials":
        return daraja_error(400, "400.008.02", "Invalid grant type passed")
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        key = secret = ""
    settings = sandbox.settings
    if scheme != "Basic" or not (
        hmac.compare_digest(key, settings.consumer_key) and hmac.compare_digest(secret, settings.consumer_secret)
    ):
        return daraja_error(400, "400.008.01", "Invalid Authentication passed")
    token = sandbox.issue_token()
    return web.json_response({"access_token": token, "expires_in": str(settings.token_lifetime_seconds)})


async def _authorised_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The JSON body of a bearer-authenticated call whose shortcode, password and timestamp check out."""
    body = await bearer_body(request)
    if isinstance(body, web.Response):
        return body
    settings = request.app[DARAJA_SANDBOX].settings
    shortcode = str(body.get("BusinessShortCode", ""))
    if not SHORTCODE.fullmatch(shortcode) or shortcode != settings.shortcode:
        return bad_request("BusinessShortCode")
    timestamp = str(body.get("Timestamp", ""))
    try:
        sent_at = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    except ValueError:
        return bad_request("Timestamp")
    if abs(datetime.now(timezone.utc) - sent_at) > _TIMESTAMP_SKEW:
        return bad_request("Timestamp")
    # Recomputed here rather than shared with the adapter, so the adapter is held to Safaricom's rule.
    expected = base64.b64encode(f"{shortcode}{settings.passkey}{timestamp}".encode()).decode()
    if not hmac.compare_digest(str(body.get("Password", "")), expected):
        return daraja_error(500, "500.001.1001", "Wrong credentials")
    return body


async def stk_push(request: web.Request) -> web.Response:
    body = await _authorised_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    if body.get("TransactionType") not in _TRANSACTION_TYPES:
        return bad_request("TransactionType")
    amount = whole_amount(body.get("Amount"))
    if amount is None:
        return bad_request("Amount")
    for name in ("PartyA", "PhoneNumber"):
        if not MSISDN.fullmatch(str(body.get(name, ""))):
            return bad_request(name)
    if not SHORTCODE.fullmatch(str(body.get("PartyB", ""))):
        return bad_request("PartyB")
    callback = urlsplit(str(body.get("CallBackURL", "")))
    if callback.scheme not in ("http", "https") or not callback.netloc:
        return bad_request("CallBackURL")
    if not 1 <= len(str(body.get("AccountReference", ""))) <= 12:
        return bad_request("AccountReference")
    if not 1 <= len(str(body.get("TransactionDesc", ""))) <= 13:
        return bad_request("TransactionDesc")
    msisdn = str(body["PhoneNumber"])
    push = StkPush(
        merchant_request_id=f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(9 * 10**7) + 10**7}-1",
        checkout_request_id=f"ws_CO_{datetime.now(EAT):%d%m%Y%H%M%S}{secrets.randbelow(10**12):012d}",
        amount=amount,
        msisdn=msisdn,
        account_reference=str(body["AccountReference"]),
        callback_url=str(body["CallBackURL"]),
        scenario=sandbox.settings.phone_scenarios.get(msisdn, StkScenario()),
    )
    sandbox.accept_push(push)
    accepted = "Success. Request accepted for processing"
    return web.json_response(
        {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": accepted,
            "CustomerMessage": accepted,
        }
    )


async def stk_query(request: web.Request) -> web.Response:
    body = await _authorised_body(request)
    if isinstance(body, web.Response):
        return body
    push = request.app[DARAJA_SANDBOX].pushes.get(str(body.get("CheckoutRequestID", "")))
    if push is None:
        return bad_request("CheckoutRequestID")
    if not push.settled:
        return daraja_error(500, "500.001.1001", "The transaction is being processed")
    code = push.scenario.result_code
    return web.json_response(
        {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResultCode": str(code),
            "ResultDesc": RESULT_DESCRIPTIONS.get(code, "The service request failed."),
        }
    )


def create_daraja_emulator(
    settings: DarajaSettings | None = None, certificate: InitiatorCertificate | None = None
) -> web.Application:
    """An aiohttp app answering Daraja's OAuth, STK, B2C, transaction status, reversal, C2B and Pull Transactions
    routes.

    Without `certificate` a new key pair is made, which takes tens of milliseconds: a server builds the emulator
    in a thread."""
    app = web.Application()
    sandbox = DarajaSandbox(settings or DarajaSettings(), certificate)
    app[DARAJA_SANDBOX] = sandbox
    app.on_cleanup.append(sandbox.notifications.close)
    app.router.add_get("/oauth/v1/generate", generate_token)
    app.router.add_post("/mpesa/stkpush/v1/processrequest", stk_push)
    app.router.add_post("/mpesa/stkpushquery/v1/query", stk_query)
    daraja_org.add_routes(app.router)
    daraja_c2b.add_routes(app.router)
    daraja_pull.add_routes(app.router)
    return app
