"""A stateful PayPal emulator: OAuth2, Orders v2, buyer approval, captures, refunds, signed webhooks and
Transaction Search."""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import string
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web
from pydantic import SecretStr

from providers.emulators.notifications import NotificationDispatcher
from providers.payments.paypal import PaypalSettings

SUPPORTED_CURRENCIES = frozenset({"AUD", "CAD", "CHF", "EUR", "GBP", "JPY", "USD"})
_VALUE = re.compile(r"^\d{1,10}(\.\d{2})?$")
_AUTH_ALGO = "SHA256withRSA"
_CERT_URL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"


@dataclass(frozen=True)
class PaypalEmulatorSettings:
    client_id: str = "lango-sandbox-client"
    client_secret: str = "lango-sandbox-secret"
    webhook_id: str = "1JE4291016473214C"
    webhook_url: str | None = None
    token_lifetime_seconds: int = 32400

    def adapter_settings(self, deployment: PaypalSettings, url: str) -> PaypalSettings:
        """The deployment's PayPal settings pointed at this emulator, served at `url`, with its app and webhook."""
        return deployment.model_copy(
            update={
                "base_url": url,
                "client_id": self.client_id,
                "client_secret": SecretStr(self.client_secret),
                "webhook_id": self.webhook_id,
            }
        )


class PaypalFailure(Exception):
    """An API error shaped like PayPal's: a name, a message and the issues behind it."""

    def __init__(self, status: int, name: str, issue: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {
            "name": name,
            "message": description,
            "debug_id": secrets.token_hex(7),
            "details": [{"issue": issue, "description": description}],
        }


def _paypal_id() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))


def paypal_fee(value: Decimal) -> Decimal:
    """PayPal's standard fee on a payment received: 3.49% plus 0.49, to the cent."""
    return (value * Decimal("0.0349") + Decimal("0.49")).quantize(Decimal("0.01"))


def _receivable(amount: dict[str, str]) -> dict[str, Any]:
    """A capture's `seller_receivable_breakdown`: the gross, PayPal's fee and what the merchant keeps."""
    value, currency = Decimal(amount["value"]), amount["currency_code"]
    fee = paypal_fee(value)
    return {
        "gross_amount": {"currency_code": currency, "value": f"{value:.2f}"},
        "paypal_fee": {"currency_code": currency, "value": f"{fee:.2f}"},
        "net_amount": {"currency_code": currency, "value": f"{value - fee:.2f}"},
    }


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _report_time(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _parsed_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def _report_date(query: Mapping[str, str], name: str) -> datetime:
    """An ISO 8601 time with an offset (`2026-01-31T00:00:00-0700`, `...Z`), as Transaction Search requires."""
    value = query.get(name)
    if not value:
        raise _invalid("MISSING_REQUIRED_PARAMETER", f"{name} is required.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid("INVALID_PARAMETER_SYNTAX", f"{name} is not a date and time with an offset.") from None
    if parsed.tzinfo is None:
        raise _invalid("INVALID_PARAMETER_SYNTAX", f"{name} is not a date and time with an offset.")
    return parsed


def _report_number(query: Mapping[str, str], name: str, default: int, high: int) -> int:
    value = query.get(name, str(default))
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise _invalid("INVALID_PARAMETER_VALUE", f"{name} must be a number from 1 to {high}.")
    return int(value)


def _unprocessable(issue: str, description: str) -> PaypalFailure:
    return PaypalFailure(422, "UNPROCESSABLE_ENTITY", issue, description)


def _invalid(issue: str, description: str) -> PaypalFailure:
    return PaypalFailure(400, "INVALID_REQUEST", issue, description)


def _not_found() -> PaypalFailure:
    return PaypalFailure(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")


class PaypalSandbox:
    """Everything the emulator holds; `approve` stands in for the buyer approving at PayPal."""

    def __init__(self, settings: PaypalEmulatorSettings) -> None:
        self.settings = settings
        self.token_requests = 0
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        # The merchant account's history as Transaction Search lists it, oldest first.
        self.transactions: list[dict[str, Any]] = []
        self.notifications = NotificationDispatcher()
        self._tokens: dict[str, float] = {}
        self._replays: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self._signing_key = secrets.token_bytes(32)
        self._transmissions: dict[str, tuple[bytes, str, str]] = {}
        self.account_number = _paypal_id()[:13]

    def issue_token(self) -> str:
        self.token_requests += 1
        token = f"A21AA{secrets.token_urlsafe(40)}"
        self._tokens[token] = time.monotonic() + self.settings.token_lifetime_seconds
        return token

    def token_valid(self, token: str) -> bool:
        return self._tokens.get(token, 0.0) > time.monotonic()

    def create_order(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        if body.get("intent") != "CAPTURE":
            raise _invalid("INVALID_PARAMETER_VALUE", "Only intent CAPTURE is emulated.")
        units = body.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1:
            raise _invalid("MISSING_REQUIRED_PARAMETER", "One purchase unit is needed.")
        amount = units[0].get("amount") or {}
        if amount.get("currency_code") not in SUPPORTED_CURRENCIES:
            raise _unprocessable("CURRENCY_NOT_SUPPORTED", "Currency code is not currently supported.")
        if not _VALUE.fullmatch(str(amount.get("value", ""))) or Decimal(amount["value"]) <= 0:
            raise _invalid("INVALID_PARAMETER_VALUE", "The amount value is invalid.")
        order_id = _paypal_id()
        experience = (body.get("payment_source") or {}).get("paypal", {}).get("experience_context")
        approve_rel = "payer-action" if experience else "approve"
        self.orders[order_id] = {
            "id": order_id,
            "intent": "CAPTURE",
            "status": "PAYER_ACTION_REQUIRED" if experience else "CREATED",
            "purchase_units": [{**units[0], "reference_id": units[0].get("reference_id", "default")}],
            "create_time": _now(),
            "links": [
                {"href": f"{base_url}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                {"href": f"{base_url}/checkoutnow?token={order_id}", "rel": approve_rel, "method": "GET"},
                {"href": f"{base_url}/v2/checkout/orders/{order_id}/capture", "rel": "capture", "method": "POST"},
            ],
            "experience_context": experience or {},
        }
        return self.order(order_id)

    def _record(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.orders:
            raise _not_found()
        return self.orders[order_id]

    def order(self, order_id: str) -> dict[str, Any]:
        return {key: value for key, value in self._record(order_id).items() if key != "experience_context"}

    def approve(self, order_id: str) -> str:
        """The buyer approves the order at PayPal; answers where PayPal sends the buyer back to."""
        order = self._record(order_id)
        if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            raise _unprocessable("ORDER_NOT_APPROVABLE", f"An order in status {order['status']} cannot be approved.")
        payer_id = _paypal_id()[:13]
        order["status"] = "APPROVED"
        order["payer"] = {"payer_id": payer_id, "email_address": "buyer@example.com"}
        self.emit("CHECKOUT.ORDER.APPROVED", "checkout-order", self.order(order_id))
        return_url = order["experience_context"].get("return_url", "")
        return f"{return_url}?{urlencode({'token': order_id, 'PayerID': payer_id})}"

    def capture_order(self, order_id: str) -> dict[str, Any]:
        order = self._record(order_id)
        if order["status"] == "COMPLETED":
            raise _unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured.")
        elif order["status"] != "APPROVED":
            raise _unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
        unit = order["purchase_units"][0]
        capture_id = _paypal_id()
        capture = {
            "id": capture_id,
            "status": "COMPLETED",
            "amount": dict(unit["amount"]),
            "final_capture": True,
            "seller_receivable_breakdown": _receivable(unit["amount"]),
            "custom_id": unit.get("custom_id"),
            "supplementary_data": {"related_ids": {"order_id": order_id}},
            "create_time": _now(),
        }
        self.captures[capture_id] = capture
        self.record_transaction("T0006", capture_id, capture["amount"], custom_field=unit.get("custom_id"))
        unit["payments"] = {"captures": [capture], "refunds": []}
        order["status"] = "COMPLETED"
        self.emit("PAYMENT.CAPTURE.COMPLETED", "capture", capture)
        return self.order(order_id)

    def capture(self, capture_id: str) -> dict[str, Any]:
        if capture_id not in self.captures:
            raise _not_found()
        return self.captures[capture_id]

    def refund_capture(self, capture_id: str, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        capture = self.capture(capture_id)
        order = self.orders[capture["supplementary_data"]["related_ids"]["order_id"]]
        refunds = order["purchase_units"][0]["payments"]["refunds"]
        captured = Decimal(capture["amount"]["value"])
        already = sum((Decimal(refund["amount"]["value"]) for refund in refunds), Decimal(0))
        currency = capture["amount"]["currency_code"]
        amount = body.get("amount") or {"value": f"{captured - already:.2f}", "currency_code": currency}
        if amount.get("currency_code") != currency or not _VALUE.fullmatch(str(amount.get("value"))):
            raise _invalid("INVALID_PARAMETER_VALUE", "The refund amount is invalid.")
        if already >= captured:
            raise _unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
        if already + Decimal(amount["value"]) > captured:
            raise _unprocessable(
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
            )
        total = already + Decimal(amount["value"])
        refund = {
            "id": _paypal_id(),
            "status": "COMPLETED",
            "amount": amount,
            "custom_id": capture.get("custom_id"),
            "seller_payable_breakdown": {
                "total_refunded_amount": {"value": f"{total:.2f}", "currency_code": amount["currency_code"]},
            },
            "create_time": _now(),
            "links": [
                {"href": f"{base_url}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"},
            ],
        }
        refunds.append(refund)
        self.record_transaction("T1107", refund["id"], {**amount, "value": f"-{Decimal(amount['value']):.2f}"},
                                reference=capture_id, custom_field=capture.get("custom_id"))  # fmt: skip
        capture["status"] = "REFUNDED" if total == captured else "PARTIALLY_REFUNDED"
        self.emit("PAYMENT.CAPTURE.REFUNDED", "refund", refund)
        return refund

    def record_transaction(
        self, code: str, transaction_id: str, amount: dict[str, str], *, reference: str | None = None, custom_field: str | None = None
    ) -> dict[str, Any]:
        """One line of the account's history: T0006 a checkout payment received, T1107 a refund sent (negative)."""
        value = Decimal(amount["value"])
        info: dict[str, Any] = {
            "paypal_account_id": self.account_number,
            "transaction_id": transaction_id,
            "transaction_event_code": code,
            "transaction_initiation_date": _report_time(datetime.now(timezone.utc)),
            "transaction_updated_date": _report_time(datetime.now(timezone.utc)),
            "transaction_amount": {"currency_code": amount["currency_code"], "value": f"{value:.2f}"},
            "transaction_status": "S",
            "protection_eligibility": "01",
        }
        if value > 0:
            info["fee_amount"] = {"currency_code": amount["currency_code"], "value": f"-{paypal_fee(value):.2f}"}
        if reference is not None:
            info.update(paypal_reference_id=reference, paypal_reference_id_type="TXN")
        if custom_field:
            info["custom_field"] = custom_field
        detail = {"transaction_info": info}
        self.transactions.append(detail)
        return detail

    def search_transactions(self, query: Mapping[str, str]) -> dict[str, Any]:
        """GET /v1/reporting/transactions: a span of at most 31 days, pages of 1-500, the account's lines in it."""
        start, end = _report_date(query, "start_date"), _report_date(query, "end_date")
        if end < start:
            raise _invalid("INVALID_PARAMETER_VALUE", "end_date must not be earlier than start_date.")
        if end - start > timedelta(days=31):
            raise _invalid("INVALID_PARAMETER_VALUE", "Date range is greater than 31 days.")
        page_size, page = _report_number(query, "page_size", 100, 500), _report_number(query, "page", 1, 10_000_000)
        within = [d for d in self.transactions
                  if start <= _parsed_time(d["transaction_info"]["transaction_initiation_date"]) <= end]  # fmt: skip
        pages = max(1, -(-len(within) // page_size))
        return {
            "transaction_details": within[(page - 1) * page_size : page * page_size],
            "account_number": self.account_number,
            "start_date": _report_time(start),
            "end_date": _report_time(end),
            "last_refreshed_datetime": _report_time(datetime.now(timezone.utc)),
            "page": page,
            "total_items": len(within),
            "total_pages": pages,
            "links": [],
        }

    def emit(self, event_type: str, resource_type: str, resource: dict[str, Any]) -> dict[str, Any]:
        """Record an event and post it, with PayPal's transmission headers, to the webhook URL if set."""
        event = {
            "id": f"WH-{_paypal_id()}-{_paypal_id()}",
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": event_type.replace(".", " ").capitalize(),
            "resource": resource,
        }
        if self.settings.webhook_url:
            body = orjson.dumps(event)
            self.notifications.post(self.settings.webhook_url, body, self.sign(body))
        return event

    def sign(self, body: bytes) -> dict[str, str]:
        """Transmission headers for `body`, signed over `id|time|webhook_id|crc32(body)` as PayPal does."""
        transmission_id, transmitted_at = str(uuid.uuid4()), _now()
        signature = self._signature(transmission_id, transmitted_at, body)
        self._transmissions[transmission_id] = (body, transmitted_at, signature)
        return {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmitted_at,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-CERT-URL": _CERT_URL,
            "PAYPAL-AUTH-ALGO": _AUTH_ALGO,
        }

    def _signature(self, transmission_id: str, transmitted_at: str, body: bytes) -> str:
        message = f"{transmission_id}|{transmitted_at}|{self.settings.webhook_id}|{zlib.crc32(body)}"
        return base64.b64encode(hmac.new(self._signing_key, message.encode(), hashlib.sha256).digest()).decode()

    def verify(self, request: dict[str, Any]) -> bool:
        """Answer verify-webhook-signature: the transmission must be ours and the event unchanged."""
        sent = self._transmissions.get(str(request.get("transmission_id")))
        if sent is None or request.get("webhook_id") != self.settings.webhook_id:
            return False
        body, transmitted_at, signature = sent
        return (
            request.get("auth_algo") == _AUTH_ALGO
            and request.get("transmission_time") == transmitted_at
            and hmac.compare_digest(str(request.get("transmission_sig")), signature)
            and request.get("webhook_event") == orjson.loads(body)
        )

    def replay(self, request_id: str | None, path: str) -> tuple[int, dict[str, Any]] | None:
        return self._replays.get((request_id, path)) if request_id else None

    def remember(self, request_id: str | None, path: str, status: int, body: dict[str, Any]) -> None:
        if request_id:
            self._replays[(request_id, path)] = (status, body)


PAYPAL_SANDBOX = web.AppKey("paypal_sandbox", PaypalSandbox)


def _base_url(request: web.Request) -> str:
    return str(request.url.origin())


@web.middleware
async def _paypal_api(request: web.Request, handler: Any) -> web.StreamResponse:
    """Bearer tokens on the REST routes, PayPal-Request-Id replays, and errors in PayPal's shape."""
    sandbox = request.app[PAYPAL_SANDBOX]
    if request.path.startswith(("/v2/", "/v1/notifications/", "/v1/reporting/")):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not sandbox.token_valid(token):
            return web.json_response(
                {"error": "invalid_token", "error_description": "Token signature verification failed"}, status=401
            )
    request_id = request.headers.get("PayPal-Request-Id") if request.method == "POST" else None
    replayed = sandbox.replay(request_id, request.path)
    if replayed is not None:
        return web.json_response(replayed[1], status=200)
    try:
        response = await handler(request)
    except PaypalFailure as failure:
        return web.json_response(failure.body, status=failure.status)
    except ValueError:
        return web.json_response(
            _invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.").body, status=400
        )
    if isinstance(response, web.Response) and isinstance(response.body, bytes) and response.status in (200, 201):
        sandbox.remember(request_id, request.path, response.status, orjson.loads(response.body))
    return response


async def issue_token(request: web.Request) -> web.Response:
    sandbox = request.app[PAYPAL_SANDBOX]
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id = secret = ""
    form = await request.post()
    settings = sandbox.settings
    if scheme != "Basic" or not (
        hmac.compare_digest(client_id, settings.client_id) and hmac.compare_digest(secret, settings.client_secret)
    ):
        return web.json_response(
            {"error": "invalid_client", "error_description": "Client Authentication failed"}, status=401
        )
    if form.get("grant_type") != "client_credentials":
        return web.json_response(
            {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}, status=400
        )
    return web.json_response(
        {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": sandbox.issue_token(),
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": settings.token_lifetime_seconds,
            "nonce": f"{_now()}{secrets.token_urlsafe(16)}",
        }
    )


async def create_order(request: web.Request) -> web.Response:
    order = request.app[PAYPAL_SANDBOX].create_order(await request.json(), _base_url(request))
    return web.json_response(order, status=201)


async def show_order(request: web.Request) -> web.Response:
    return web.json_response(request.app[PAYPAL_SANDBOX].order(request.match_info["order"]))


async def capture_order(request: web.Request) -> web.Response:
    return web.json_response(request.app[PAYPAL_SANDBOX].capture_order(request.match_info["order"]), status=201)


async def show_capture(request: web.Request) -> web.Response:
    return web.json_response(request.app[PAYPAL_SANDBOX].capture(request.match_info["capture"]))


async def refund_capture(request: web.Request) -> web.Response:
    body = await request.json() if request.can_read_body else {}
    refund = request.app[PAYPAL_SANDBOX].refund_capture(request.match_info["capture"], body, _base_url(request))
    return web.json_response(refund, status=201)


async def search_transactions(request: web.Request) -> web.Response:
    return web.json_response(request.app[PAYPAL_SANDBOX].search_transactions(request.query))


async def verify_webhook_signature(request: web.Request) -> web.Response:
    body = await request.json()
    verified = request.app[PAYPAL_SANDBOX].verify(body)
    return web.json_response({"verification_status": "SUCCESS" if verified else "FAILURE"})


async def buyer_approves(request: web.Request) -> web.Response:
    """The approve link: the buyer lands here, approves, and is sent back to the shop."""
    return_to = request.app[PAYPAL_SANDBOX].approve(request.query.get("token", ""))
    raise web.HTTPFound(return_to)


def create_paypal_emulator(settings: PaypalEmulatorSettings | None = None) -> web.Application:
    """An aiohttp app answering PayPal's OAuth2, Orders v2, Payments v2, webhook verification and Transaction
    Search routes."""
    app = web.Application(middlewares=[_paypal_api])
    sandbox = PaypalSandbox(settings or PaypalEmulatorSettings())
    app[PAYPAL_SANDBOX] = sandbox
    app.on_cleanup.append(sandbox.notifications.close)
    app.router.add_post("/v1/oauth2/token", issue_token)
    app.router.add_post("/v2/checkout/orders", create_order)
    app.router.add_get("/v2/checkout/orders/{order}", show_order)
    app.router.add_post("/v2/checkout/orders/{order}/capture", capture_order)
    app.router.add_get("/v2/payments/captures/{capture}", show_capture)
    app.router.add_post("/v2/payments/captures/{capture}/refund", refund_capture)
    app.router.add_post("/v1/notifications/verify-webhook-signature", verify_webhook_signature)
    app.router.add_get("/v1/reporting/transactions", search_transactions)
    app.router.add_get("/checkoutnow", buyer_approves)
    return app
