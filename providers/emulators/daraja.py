"""Daraja emulator and embedded M-Pesa sandbox: OAuth, STK push that calls back like Safaricom, STK query."""

import asyncio
import base64
import binascii
import hmac
import re
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import orjson
from aiohttp import web
from pydantic import SecretStr

from providers.emulators.notifications import Delivery, NotificationDispatcher
from providers.payments.mpesa import MpesaSettings

_EAT = timezone(timedelta(hours=3), "EAT")
_TIMESTAMP_SKEW = timedelta(minutes=10)
_MSISDN = re.compile(r"^254[17]\d{8}$")
_SHORTCODE = re.compile(r"^\d{5,7}$")
_TRANSACTION_TYPES = {"CustomerPayBillOnline", "CustomerBuyGoodsOnline"}
_MAX_AMOUNT = 150_000

RESULT_DESCRIPTIONS: Mapping[int, str] = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    1032: "Request cancelled by user",
    1037: "DS timeout user cannot be reached",
    2001: "The initiator information is invalid.",
}


@dataclass(frozen=True)
class StkScenario:
    """What the payer's phone does with a push: the final result, and whether Safaricom calls back."""

    result_code: int = 0
    sends_callback: bool = True


TEST_PHONES: Mapping[str, StkScenario] = {
    "254700000001": StkScenario(1032),
    "254700000002": StkScenario(2001),
    "254700000003": StkScenario(1037),
    "254700000004": StkScenario(1),
    "254700000005": StkScenario(0, sends_callback=False),
}
"""Sandbox phone numbers and their fate; every other number pays successfully."""


@dataclass(frozen=True)
class DarajaSettings:
    consumer_key: str = "lango-sandbox-key"
    consumer_secret: str = "lango-sandbox-secret"
    shortcode: str = "174379"
    passkey: str = "lango-sandbox-passkey"
    callback_delay_seconds: float = 3.0
    token_lifetime_seconds: int = 3599
    phone_scenarios: Mapping[str, StkScenario] = field(default_factory=lambda: dict(TEST_PHONES))

    def adapter_settings(self, deployment: MpesaSettings, url: str) -> MpesaSettings:
        """The deployment's M-Pesa settings pointed at this emulator, served at `url`, with its app and shortcode."""
        return deployment.model_copy(
            update={
                "base_url": url,
                "consumer_key": SecretStr(self.consumer_key),
                "consumer_secret": SecretStr(self.consumer_secret),
                "passkey": SecretStr(self.passkey),
                "shortcode": self.shortcode,
            }
        )


@dataclass
class StkPush:
    merchant_request_id: str
    checkout_request_id: str
    amount: int
    msisdn: str
    account_reference: str
    callback_url: str
    scenario: StkScenario
    settled: bool = False


class DarajaSandbox:
    """The emulator's state: issued tokens, pushes and the callbacks sent, open to tests and developers."""

    def __init__(self, settings: DarajaSettings) -> None:
        self.settings = settings
        self.token_requests = 0
        self.pushes: dict[str, StkPush] = {}
        self.notifications = NotificationDispatcher()
        self._tokens: dict[str, float] = {}

    @property
    def callbacks(self) -> list[Delivery]:
        return self.notifications.deliveries

    def issue_token(self) -> str:
        self.token_requests += 1
        token = secrets.token_urlsafe(21)
        self._tokens[token] = time.monotonic() + self.settings.token_lifetime_seconds
        return token

    def token_valid(self, token: str) -> bool:
        return self._tokens.get(token, 0.0) > time.monotonic()

    def revoke_tokens(self) -> None:
        self._tokens.clear()

    def accept(self, push: StkPush) -> None:
        self.pushes[push.checkout_request_id] = push
        self.notifications.spawn(self._settle_later(push))

    def settle_now(self, checkout_request_id: str) -> None:
        """Finish a push at once, as if the payer answered the prompt right now."""
        push = self.pushes[checkout_request_id]
        if push.settled:
            return
        push.settled = True
        if push.scenario.sends_callback:
            self.notifications.post(
                push.callback_url, orjson.dumps(callback_payload(push)), {"Content-Type": "application/json"}
            )

    async def _settle_later(self, push: StkPush) -> None:
        # The delay stands for the payer reading the prompt and typing a PIN.
        await asyncio.sleep(self.settings.callback_delay_seconds)
        self.settle_now(push.checkout_request_id)


DARAJA_SANDBOX = web.AppKey("daraja_sandbox", DarajaSandbox)


def callback_payload(push: StkPush) -> dict[str, Any]:
    code = push.scenario.result_code
    callback: dict[str, Any] = {
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": RESULT_DESCRIPTIONS.get(code, "The service request failed."),
    }
    if code == 0:
        receipt = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10))
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": float(push.amount)},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(datetime.now(_EAT).strftime("%Y%m%d%H%M%S"))},
                {"Name": "PhoneNumber", "Value": int(push.msisdn)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"requestId": secrets.token_hex(8), "errorCode": code, "errorMessage": message}, status=status
    )


def _bad_request(field_name: str) -> web.Response:
    return _error(400, "400.002.02", f"Bad Request - Invalid {field_name}")


async def generate_token(request: web.Request) -> web.Response:
    sandbox = request.app[DARAJA_SANDBOX]
    if request.query.get("grant_type") != "client_credentials":
        return _error(400, "400.008.02", "Invalid grant type passed")
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        key = secret = ""
    settings = sandbox.settings
    if scheme != "Basic" or not (
        hmac.compare_digest(key, settings.consumer_key) and hmac.compare_digest(secret, settings.consumer_secret)
    ):
        return _error(400, "400.008.01", "Invalid Authentication passed")
    token = sandbox.issue_token()
    return web.json_response({"access_token": token, "expires_in": str(settings.token_lifetime_seconds)})


async def _authorised_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The JSON body of a bearer-authenticated call whose shortcode, password and timestamp check out."""
    sandbox = request.app[DARAJA_SANDBOX]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not sandbox.token_valid(token):
        return _error(404, "404.001.03", "Invalid Access Token")
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "400.002.05", "Invalid Request Payload")
    if not isinstance(body, dict):
        return _error(400, "400.002.05", "Invalid Request Payload")
    settings = sandbox.settings
    shortcode = str(body.get("BusinessShortCode", ""))
    if not _SHORTCODE.fullmatch(shortcode) or shortcode != settings.shortcode:
        return _bad_request("BusinessShortCode")
    timestamp = str(body.get("Timestamp", ""))
    try:
        sent_at = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=_EAT)
    except ValueError:
        return _bad_request("Timestamp")
    if abs(datetime.now(timezone.utc) - sent_at) > _TIMESTAMP_SKEW:
        return _bad_request("Timestamp")
    # Recomputed here rather than shared with the adapter, so the adapter is held to Safaricom's rule.
    expected = base64.b64encode(f"{shortcode}{settings.passkey}{timestamp}".encode()).decode()
    if not hmac.compare_digest(str(body.get("Password", "")), expected):
        return _error(500, "500.001.1001", "Wrong credentials")
    return body


def _whole_amount(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        amount = int(value)
        return amount if 1 <= amount <= _MAX_AMOUNT else None
    return None


async def stk_push(request: web.Request) -> web.Response:
    body = await _authorised_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    if body.get("TransactionType") not in _TRANSACTION_TYPES:
        return _bad_request("TransactionType")
    amount = _whole_amount(body.get("Amount"))
    if amount is None:
        return _bad_request("Amount")
    for name in ("PartyA", "PhoneNumber"):
        if not _MSISDN.fullmatch(str(body.get(name, ""))):
            return _bad_request(name)
    if not _SHORTCODE.fullmatch(str(body.get("PartyB", ""))):
        return _bad_request("PartyB")
    callback = urlsplit(str(body.get("CallBackURL", "")))
    if callback.scheme not in ("http", "https") or not callback.netloc:
        return _bad_request("CallBackURL")
    if not 1 <= len(str(body.get("AccountReference", ""))) <= 12:
        return _bad_request("AccountReference")
    if not 1 <= len(str(body.get("TransactionDesc", ""))) <= 13:
        return _bad_request("TransactionDesc")
    msisdn = str(body["PhoneNumber"])
    push = StkPush(
        merchant_request_id=f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(9 * 10**7) + 10**7}-1",
        checkout_request_id=f"ws_CO_{datetime.now(_EAT):%d%m%Y%H%M%S}{secrets.randbelow(10**12):012d}",
        amount=amount,
        msisdn=msisdn,
        account_reference=str(body["AccountReference"]),
        callback_url=str(body["CallBackURL"]),
        scenario=sandbox.settings.phone_scenarios.get(msisdn, StkScenario()),
    )
    sandbox.accept(push)
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
        return _bad_request("CheckoutRequestID")
    if not push.settled:
        return _error(500, "500.001.1001", "The transaction is being processed")
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


def create_daraja_emulator(settings: DarajaSettings | None = None) -> web.Application:
    """An aiohttp app answering Daraja's OAuth, STK push and STK query routes."""
    app = web.Application()
    sandbox = DarajaSandbox(settings or DarajaSettings())
    app[DARAJA_SANDBOX] = sandbox
    app.on_cleanup.append(sandbox.notifications.close)
    app.router.add_get("/oauth/v1/generate", generate_token)
    app.router.add_post("/mpesa/stkpush/v1/processrequest", stk_push)
    app.router.add_post("/mpesa/stkpushquery/v1/query", stk_query)
    return app
