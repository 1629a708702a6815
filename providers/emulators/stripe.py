"""A stateful Stripe emulator: PaymentIntents, confirmation (by API, or by the payer on a hosted page), refunds,
idempotency keys, signed webhooks and the balance history."""

import hashlib
import hmac
import operator
import re
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from aiohttp import web
from pydantic import SecretStr

from providers.emulators.notifications import NotificationDispatcher
from providers.emulators.stripe_checkout import (
    AUTHENTICATE,
    CARD_CHOICES,
    FAIL_AUTHENTICATION,
    authentication_page,
    confirmation_page,
    outcome_page,
)
from providers.payments.stripe import StripeSettings

_KEY_PART = re.compile(r"[^\[\]]+")
_API_VERSION = "2025-09-30.clover"

DECLINES: dict[str, tuple[str, str]] = {
    "pm_card_chargeDeclined": ("generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": ("insufficient_funds", "Your card has insufficient funds."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
}
"""Stripe's test payment methods that decline, with their decline codes; any other method succeeds."""
AUTHENTICATION_FAILED = {
    "type": "invalid_request_error",
    "code": "payment_intent_authentication_failure",
    "message": "We are unable to authenticate your payment method. Please choose a different payment method and try "
    "again.",
}
CONFIRM_PATH = "/sandbox/confirm/"
"""Where the payer confirms an intent in a browser: the emulator's stand-in for Stripe.js and the bank's 3-D Secure."""


@dataclass(frozen=True)
class StripeEmulatorSettings:
    api_key: str = "sk_test_lango_sandbox"
    webhook_secret: str = "whsec_lango_sandbox"
    webhook_url: str | None = None

    def adapter_settings(self, deployment: StripeSettings, url: str) -> StripeSettings:
        """The deployment's Stripe settings pointed at this emulator, served at `url`, with its keys."""
        return deployment.model_copy(
            update={
                "api_base": url,
                "api_key": SecretStr(self.api_key),
                "webhook_secret": SecretStr(self.webhook_secret),
            }
        )


class StripeFailure(Exception):
    """An API error answered the way Stripe answers it."""

    def __init__(self, status: int, error_type: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": error_type, "message": message, **details}}


def _object_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))}"


def decode_form(raw: str) -> dict[str, Any]:
    """Stripe's bracketed form encoding (`metadata[a]=1&expand[0]=x`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = _KEY_PART.findall(key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists_from_indexes(root)


def _lists_from_indexes(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    values = {key: _lists_from_indexes(value) for key, value in node.items()}
    if values and all(key.isdigit() for key in values):
        return [values[key] for key in sorted(values, key=int)]
    return values


_BALANCE_LIST_PARAMS = {"created", "limit", "starting_after", "ending_before", "expand", "type", "currency", "source", "payout"}


def _timestamp(value: Any, name: str) -> int:
    if not isinstance(value, str) or not value.isdigit():
        raise StripeFailure(400, "invalid_request_error", f"Invalid integer: {value}", param=name)
    return int(value)


_COMPARISONS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def _within(created: int, bounds: dict[str, int]) -> bool:
    return all(_COMPARISONS[op](created, bound) for op, bound in bounds.items())


def _integer(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
        raise StripeFailure(400, "invalid_request_error", f"Invalid positive integer: {name}", param=name)
    return int(value)


class StripeSandbox:
    """Everything the emulator holds, with `confirm` standing in for the app confirming a PaymentIntent."""

    def __init__(self, settings: StripeEmulatorSettings) -> None:
        self.settings = settings
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        # The account's balance history, oldest first: one per successful charge and per refund.
        self.balance_transactions: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.notifications = NotificationDispatcher()
        self._idempotent: dict[str, tuple[str, tuple[int, dict[str, Any]]]] = {}

    def create_intent(self, params: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A new intent; its `next_action` sends the payer to this emulator's confirmation page (Stripe's own is the
        app's card form through Stripe.js), where they pay, decline or go through 3-D Secure."""
        currency = params.get("currency", "")
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise StripeFailure(400, "invalid_request_error", "Invalid currency", param="currency")
        intent_id = _object_id("pi")
        client_secret = f"{intent_id}_secret_{secrets.token_hex(12)}"
        confirm_url = f"{base_url}{CONFIRM_PATH}{intent_id}?{urlencode({'client_secret': client_secret})}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": _integer(params, "amount"),
            "amount_received": 0,
            "currency": currency,
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
            "automatic_payment_methods": params.get("automatic_payment_methods"),
            "client_secret": client_secret,
            "status": "requires_payment_method",
            "next_action": {"type": "redirect_to_url", "redirect_to_url": {"url": confirm_url, "return_url": None}},
            "last_payment_error": None,
            "latest_charge": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.intents[intent_id] = intent
        return intent

    def intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.intents:
            raise StripeFailure(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="intent",
            )
        return self.intents[intent_id]

    def confirm(self, intent_id: str, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        """Confirm as the app would with the client secret; a declining test method leaves the intent failed."""
        if payment_method in DECLINES:
            decline_code, message = DECLINES[payment_method]
            return self._charge(
                intent_id, {"type": "card_error", "code": "card_declined", "decline_code": decline_code, "message": message}
            )
        return self._charge(intent_id, None)

    def fail_authentication(self, intent_id: str) -> dict[str, Any]:
        """The payer failed (or abandoned) the bank's 3-D Secure check: the intent needs another payment method."""
        return self._charge(intent_id, AUTHENTICATION_FAILED)

    def _charge(self, intent_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
        """Charge the intent's card: succeeded when there is no `error`, else failed with it, as its webhook says."""
        intent = self.intent(intent_id)
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeFailure(
                400,
                "invalid_request_error",
                "This PaymentIntent cannot be confirmed.",
                code="payment_intent_unexpected_state",
            )
        charge = {
            "id": _object_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "refunded": False,
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "metadata": intent["metadata"],
            "created": int(time.time()),
        }
        self.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        if error is not None:
            charge.update(status="failed", paid=False)
            intent["last_payment_error"] = error
            self.emit("payment_intent.payment_failed", intent)
            return intent
        charge.update(status="succeeded", paid=True)
        charge["balance_transaction"] = self._record_balance("charge", charge["id"], charge["amount"], charge["currency"])
        intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None, next_action=None)
        self.emit("payment_intent.succeeded", intent)
        return intent

    def refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.intent(params.get("payment_intent", ""))
        if intent["status"] != "succeeded":
            raise StripeFailure(
                400,
                "invalid_request_error",
                "This PaymentIntent does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        charge = self.charges[intent["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = _integer(params, "amount") if "amount" in params else remaining
        if amount > remaining:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": _object_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "currency": charge["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "created": int(time.time()),
        }
        refund["balance_transaction"] = self._record_balance("refund", refund["id"], -amount, refund["currency"])
        self.refunds[refund["id"]] = refund
        self.emit("charge.refunded", charge)
        return refund

    def _record_balance(self, kind: str, source: str, amount: int, currency: str) -> str:
        """A balance transaction for a charge (less Stripe's standard 2.9% + 30 fee) or a refund; answers its id."""
        fee = (amount * 29 + 500) // 1000 + 30 if kind == "charge" else 0
        now = int(time.time())
        transaction = {
            "id": _object_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now + 2 * 86_400,
            "created": now,
            "currency": currency,
            "description": None,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": [{"amount": fee, "currency": currency, "description": "Stripe processing fees", "type": "stripe_fee"}] if fee else [],
            "net": amount - fee,
            "reporting_category": kind,
            "source": source,
            "status": "pending",
            "type": kind,
        }
        self.balance_transactions[transaction["id"]] = transaction
        return transaction["id"]

    def list_balance_transactions(self, params: dict[str, Any]) -> dict[str, Any]:
        """GET /v1/balance_transactions: newest first, `created` bounds, `limit` 1-100, `starting_after` paging."""
        unknown = set(params) - _BALANCE_LIST_PARAMS
        if unknown:
            name = sorted(unknown)[0]
            raise StripeFailure(400, "invalid_request_error", f"Received unknown parameter: {name}", param=name)
        limit = _integer(params, "limit") if "limit" in params else 10
        if limit > 100:
            raise StripeFailure(400, "invalid_request_error", "This value must be less than or equal to 100.", param="limit")
        created = params.get("created", {})
        if not isinstance(created, dict) or set(created) - {"gt", "gte", "lt", "lte"}:
            raise StripeFailure(400, "invalid_request_error", "Invalid created: must be a hash of gt, gte, lt, lte", param="created")
        bounds = {op: _timestamp(value, f"created[{op}]") for op, value in created.items()}
        newest_first = sorted(self.balance_transactions.values(), key=lambda t: (t["created"], t["id"]), reverse=True)
        matching = [t for t in newest_first if _within(t["created"], bounds)]
        if "starting_after" in params:
            ids = [t["id"] for t in matching]
            if params["starting_after"] not in self.balance_transactions:
                raise StripeFailure(404, "invalid_request_error", f"No such balance transaction: '{params['starting_after']}'",
                                    code="resource_missing", param="starting_after")  # fmt: skip
            matching = matching[ids.index(params["starting_after"]) + 1 :] if params["starting_after"] in ids else []
        page = matching[:limit]
        expand = params.get("expand", [])
        return {
            "object": "list",
            "data": [self._expanded_source(t) if "data.source" in expand else dict(t) for t in page],
            "has_more": len(matching) > limit,
            "url": "/v1/balance_transactions",
        }

    def _expanded_source(self, transaction: dict[str, Any]) -> dict[str, Any]:
        source = transaction["source"]
        found = self.charges.get(source) or self.refunds.get(source)
        return {**transaction, "source": dict(found) if found else source}

    def emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record an event and, when a webhook URL is set, post it signed the way Stripe signs."""
        event = {
            "id": _object_id("evt"),
            "object": "event",
            "api_version": _API_VERSION,
            "created": int(time.time()),
            "data": {"object": dict(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        self.events.append(event)
        if self.settings.webhook_url:
            body = orjson.dumps(event)
            headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": self.sign(body)}
            self.notifications.post(self.settings.webhook_url, body, headers)
        return event

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        signed_at = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(
            self.settings.webhook_secret.encode(), f"{signed_at}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return f"t={signed_at},v1={digest}"

    async def idempotent(
        self, key: str | None, fingerprint: str, answer: Callable[[], Awaitable[web.Response]]
    ) -> web.Response:
        """Replay the first answer to a key; the same key with other parameters is Stripe's idempotency error."""
        if key is None:
            return await answer()
        if key in self._idempotent:
            first_fingerprint, first_answer = self._idempotent[key]
            if first_fingerprint != fingerprint:
                raise StripeFailure(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                )
            return _json(first_answer[1], first_answer[0], replayed=True)
        response = await answer()
        if response.status < 500 and isinstance(response.body, bytes):
            self._idempotent[key] = (fingerprint, (response.status, orjson.loads(response.body)))
        return response


STRIPE_SANDBOX = web.AppKey("stripe_sandbox", StripeSandbox)
_PARAMS = web.RequestKey("stripe_params", dict[str, Any])


def _json(body: dict[str, Any], status: int = 200, *, replayed: bool = False) -> web.Response:
    headers = {"Request-Id": f"req_{secrets.token_hex(7)}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json", headers=headers)


def _expanded(sandbox: StripeSandbox, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    view = dict(obj)
    for field_name in expand:
        if field_name in ("latest_charge", "charge") and isinstance(view.get(field_name), str):
            view[field_name] = dict(sandbox.charges[view[field_name]])
    return view


@web.middleware
async def _stripe_api(request: web.Request, handler: Any) -> web.StreamResponse:
    """Check the secret key, decode the form body, apply idempotency and answer errors as Stripe does."""
    sandbox = request.app[STRIPE_SANDBOX]
    if request.path.startswith(CONFIRM_PATH):
        return await handler(request)
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not hmac.compare_digest(key, sandbox.settings.api_key):
        return _json(
            {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {key[:8]}****"}}, 401
        )
    raw = (await request.text()) if request.method == "POST" else request.query_string
    request[_PARAMS] = decode_form(raw)
    try:
        if request.method != "POST":
            return await handler(request)
        fingerprint = f"{request.path}?{orjson.dumps(request[_PARAMS], option=orjson.OPT_SORT_KEYS).decode()}"
        return await sandbox.idempotent(
            request.headers.get("Idempotency-Key"), fingerprint, lambda: _answer(handler, request)
        )
    except StripeFailure as failure:
        return _json(failure.body, failure.status)


async def _answer(handler: Any, request: web.Request) -> web.Response:
    try:
        return await handler(request)
    except StripeFailure as failure:
        return _json(failure.body, failure.status)


async def create_payment_intent(request: web.Request) -> web.Response:
    return _json(request.app[STRIPE_SANDBOX].create_intent(request[_PARAMS], str(request.url.origin())))


async def retrieve_payment_intent(request: web.Request) -> web.Response:
    sandbox = request.app[STRIPE_SANDBOX]
    intent = sandbox.intent(request.match_info["intent"])
    return _json(_expanded(sandbox, intent, request[_PARAMS].get("expand", [])))


async def confirm_payment_intent(request: web.Request) -> web.Response:
    sandbox = request.app[STRIPE_SANDBOX]
    params = request[_PARAMS]
    intent = sandbox.confirm(request.match_info["intent"], params.get("payment_method", "pm_card_visa"))
    if intent["status"] != "succeeded":
        error = intent["last_payment_error"]
        raise StripeFailure(
            402,
            "card_error",
            error["message"],
            code=error["code"],
            decline_code=error.get("decline_code"),
            payment_intent=dict(intent),
        )
    return _json(_expanded(sandbox, intent, params.get("expand", [])))


async def list_balance_transactions(request: web.Request) -> web.Response:
    return _json(request.app[STRIPE_SANDBOX].list_balance_transactions(request[_PARAMS]))


async def create_refund(request: web.Request) -> web.Response:
    sandbox = request.app[STRIPE_SANDBOX]
    params = request[_PARAMS]
    return _json(_expanded(sandbox, sandbox.refund(params), params.get("expand", [])))


def _intent_of_payer(request: web.Request, client_secret: str) -> dict[str, Any]:
    """The intent the page is for, when `client_secret` is its own; like Stripe.js, the secret is what lets a browser
    confirm. Anything else is a 404, whether or not the intent exists."""
    sandbox = request.app[STRIPE_SANDBOX]
    intent = sandbox.intents.get(request.match_info["intent"])
    if intent is None or not hmac.compare_digest(client_secret.encode(), intent["client_secret"].encode()):
        raise web.HTTPNotFound(text="No such payment.")
    return intent


def _page(html: str, status: int = 200) -> web.Response:
    # The page loads nothing, runs no script, and only posts back to itself.
    policy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    return web.Response(text=html, status=status, content_type="text/html", headers={"Content-Security-Policy": policy})


async def show_confirmation_page(request: web.Request) -> web.Response:
    """The confirm URL of the intent's `next_action`: its amount and what the payer may do."""
    return _page(confirmation_page(_intent_of_payer(request, request.query.get("client_secret", ""))))


async def payer_confirms(request: web.Request) -> web.Response:
    """The payer's choice: pay, a decline, or 3-D Secure first (its page answers complete or fail); each charge sends
    its signed webhook like a confirmation through the API. A second submission charges nothing more."""
    form = await request.post()
    intent = _intent_of_payer(request, str(form.get("client_secret", "")))
    choice = str(form.get("choice", ""))
    if choice == AUTHENTICATE:
        return _page(authentication_page(intent))
    if choice != FAIL_AUTHENTICATION and choice not in CARD_CHOICES:
        return _page(confirmation_page(intent, notice="Choose one of the buttons."), status=400)
    sandbox = request.app[STRIPE_SANDBOX]
    try:
        if choice == FAIL_AUTHENTICATION:
            sandbox.fail_authentication(intent["id"])
        else:
            sandbox.confirm(intent["id"], CARD_CHOICES[choice])
    except StripeFailure:
        pass  # already paid: the page says so
    return _page(outcome_page(intent))


def create_stripe_emulator(settings: StripeEmulatorSettings | None = None) -> web.Application:
    """An aiohttp app answering the PaymentIntent, Refund and balance transaction routes of Stripe's API."""
    app = web.Application(middlewares=[_stripe_api])
    sandbox = StripeSandbox(settings or StripeEmulatorSettings())
    app[STRIPE_SANDBOX] = sandbox
    app.on_cleanup.append(sandbox.notifications.close)
    app.router.add_post("/v1/payment_intents", create_payment_intent)
    app.router.add_get("/v1/payment_intents/{intent}", retrieve_payment_intent)
    app.router.add_post("/v1/payment_intents/{intent}/confirm", confirm_payment_intent)
    app.router.add_post("/v1/refunds", create_refund)
    app.router.add_get("/v1/balance_transactions", list_balance_transactions)
    app.router.add_get(CONFIRM_PATH + "{intent}", show_confirmation_page)
    app.router.add_post(CONFIRM_PATH + "{intent}", payer_confirms)
    return app
