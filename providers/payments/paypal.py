"""PayPal Checkout through Orders v2 on a small async client: orders, capture, refunds, verified webhooks."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import httpx
import orjson
from pydantic import Field, SecretStr

from providers.errors import SignatureInvalid, VendorRejected, VendorUnavailable
from providers.payments.base import (
    Initiation,
    NormalizedPaymentEvent,
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
    RefundResult,
    canonical_headers,
)
from providers.payments.outcomes import (
    PAYPAL_CAPTURE_STATUSES,
    PAYPAL_EVENT_TYPES,
    PAYPAL_ORDER_STATUSES,
    PAYPAL_REFUND_STATUSES,
    Verdict,
    classify,
)
from providers.payments.paypal_reporting import TRANSACTIONS_PATH, movement, search_window
from providers.payments.statements import MovementKind, StatementSource, VendorTransaction
from providers.payments.tokens import AccessTokenCache
from providers.settings import HttpUrl, VendorSettings
from providers.vendor_http import call_vendor, json_body

VENDOR = "paypal"
CHARGE_CURRENCY = "USD"
# The name the payer sees on PayPal's pages.
BRAND_NAME = "Lango"
TIMEOUT_S = 15.0
# A PayPal token is fetched again this long before it expires.
TOKEN_REFRESH_MARGIN_S = 300.0
_CENTS_PER_DOLLAR = 100
_TRANSMISSION_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}

ExchangeRate = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)]


class PaypalSettings(VendorSettings):
    """The `payments.paypal` settings: the REST app, its webhook's id, and the fixed KES→USD rate of orders."""

    section: ClassVar[str] = "payments.paypal"

    base_url: HttpUrl = "https://api-m.sandbox.paypal.com"
    client_id: str | None = Field(None, min_length=1)
    client_secret: SecretStr | None = None
    webhook_id: str | None = Field(None, min_length=1)
    # KES for one USD, a decimal string such as "129.50".
    kes_per_usd: ExchangeRate = Decimal("129.00")
    return_url: HttpUrl = "https://lango.africa/payments/paypal/return"
    cancel_url: HttpUrl = "https://lango.africa/payments/paypal/cancel"

    @property
    def has_credentials(self) -> bool:
        return None not in (self.client_id, self.client_secret, self.webhook_id)


def usd_cents_for_kes(kes_minor: int, kes_per_usd: Decimal) -> int:
    """USD cents charged for a KES amount: KES ÷ rate, rounded up to a whole cent so it never falls short."""
    rate_numerator, rate_denominator = kes_per_usd.as_integer_ratio()
    return -(-kes_minor * rate_denominator // rate_numerator)


def _money_value(cents: int) -> str:
    return f"{cents // _CENTS_PER_DOLLAR}.{cents % _CENTS_PER_DOLLAR:02d}"


def _cents(amount: Mapping[str, Any] | None) -> int | None:
    if not amount or "value" not in amount:
        return None
    return int(Decimal(str(amount["value"])) * _CENTS_PER_DOLLAR)


def _first_unit(order: Mapping[str, Any]) -> dict[str, Any]:
    units = order.get("purchase_units") or [{}]
    return units[0]


def _capture_of(order: Mapping[str, Any]) -> dict[str, Any] | None:
    captures = (_first_unit(order).get("payments") or {}).get("captures") or []
    return captures[0] if captures else None


def _refunded_cents(order: Mapping[str, Any]) -> int:
    refunds = (_first_unit(order).get("payments") or {}).get("refunds") or []
    return sum(_cents(refund.get("amount")) or 0 for refund in refunds if refund.get("status") == "COMPLETED")


class PaypalProvider(PaymentProvider, StatementSource):
    """Creates orders the payer approves at PayPal; an approved order is captured to collect the money."""

    name: ClassVar[str] = VENDOR
    statement_covers: ClassVar[frozenset[MovementKind]] = frozenset(
        {MovementKind.COLLECTION, MovementKind.REFUND, MovementKind.FEE}
    )

    def __init__(self, settings: PaypalSettings, http: httpx.AsyncClient) -> None:
        settings.require("client_id", "client_secret", "webhook_id", vendor=VENDOR)
        self._settings = settings
        self._http = http
        self._base_url = settings.base_url.rstrip("/")
        self._tokens = AccessTokenCache(self._fetch_token, refresh_margin_seconds=TOKEN_REFRESH_MARGIN_S)

    def charge_for(self, amount_minor: int, currency: str) -> int:
        """What PayPal is asked to collect, in USD cents, for an amount of ours."""
        if currency == CHARGE_CURRENCY:
            return amount_minor
        if currency == "KES":
            return usd_cents_for_kes(amount_minor, self._settings.kes_per_usd)
        raise VendorRejected(f"PayPal payments are taken in KES or USD, not {currency}", vendor=VENDOR)

    async def _fetch_token(self) -> tuple[str, float]:
        response = await call_vendor(
            self._http,
            VENDOR,
            "POST",
            f"{self._base_url}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self._settings.client_id, self._settings.client_secret.get_secret_value()),
            timeout=TIMEOUT_S,
        )
        body = json_body(response, VENDOR)
        try:
            return str(body["access_token"]), float(body["expires_in"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VendorUnavailable(f"PayPal's token answer lacks {exc}", vendor=VENDOR) from exc

    async def _api(
        self,
        method: str,
        path: str,
        *,
        request_id: str | None = None,
        content_type: str | None = None,
        **request: Any,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self._tokens.get()}", "Prefer": "return=representation"}
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = await call_vendor(
            self._http,
            VENDOR,
            method,
            f"{self._base_url}{path}",
            headers=headers,
            timeout=TIMEOUT_S,
            **request,
        )
        body = json_body(response, VENDOR)
        if not isinstance(body, dict):
            raise VendorUnavailable(f"PayPal answered a JSON {type(body).__name__}, not an object", vendor=VENDOR)
        return body

    async def initiate(self, request: PaymentRequest) -> Initiation:
        charged_cents = self.charge_for(request.amount_minor, request.currency)
        order = await self._api(
            "POST",
            "/v2/checkout/orders",
            request_id=request.idempotency_key,
            json={
                "intent": "CAPTURE",
                "purchase_units": [
                    {
                        "reference_id": request.merchant_reference,
                        "custom_id": request.merchant_reference,
                        "description": request.description,
                        "amount": {"currency_code": CHARGE_CURRENCY, "value": _money_value(charged_cents)},
                    }
                ],
                "payment_source": {
                    "paypal": {
                        "experience_context": {
                            "brand_name": BRAND_NAME,
                            "user_action": "PAY_NOW",
                            "shipping_preference": "NO_SHIPPING",
                            "return_url": self._settings.return_url,
                            "cancel_url": self._settings.cancel_url,
                        }
                    }
                },
            },
        )
        approve_url = next(
            (link["href"] for link in order.get("links", []) if link.get("rel") in ("payer-action", "approve")), None
        )
        if approve_url is None:
            raise VendorUnavailable("PayPal created an order without an approve link", vendor=VENDOR)
        return Initiation(
            provider=VENDOR,
            reference=order["id"],
            requested_amount_minor=request.amount_minor,
            requested_currency=request.currency,
            charged_amount_minor=charged_cents,
            charged_currency=CHARGE_CURRENCY,
            approve_url=approve_url,
            raw=order,
        )

    async def capture(self, reference: str, idempotency_key: str) -> NormalizedPaymentEvent:
        """Collect an order the payer approved; capturing one already captured reports where it stands."""
        try:
            order = await self._api(
                "POST", f"/v2/checkout/orders/{reference}/capture", request_id=idempotency_key, json={}
            )
        except VendorRejected as exc:
            if "ORDER_ALREADY_CAPTURED" not in (exc.reason or ""):
                raise
            return await self.query_status(reference)
        return self._order_event(order, f"{VENDOR}:{reference}:capture")

    async def query_status(self, reference: str) -> NormalizedPaymentEvent:
        order = await self._api("GET", f"/v2/checkout/orders/{reference}")
        return self._order_event(order, f"{VENDOR}:{reference}:{order.get('status')}")

    def _order_event(self, order: dict[str, Any], dedupe_key: str) -> NormalizedPaymentEvent:
        capture = _capture_of(order)
        status = order.get("status", "")
        if capture is None:
            verdict = classify(PAYPAL_ORDER_STATUSES, status, vendor=VENDOR)
            amount = _first_unit(order).get("amount")
            vendor_code = status
        else:
            vendor_code = capture.get("status", "")
            verdict = classify(PAYPAL_CAPTURE_STATUSES, vendor_code, vendor=VENDOR)
            amount = capture.get("amount")
        amount_minor = _cents(amount)
        if verdict.outcome in (PaymentOutcome.REFUNDED, PaymentOutcome.PARTIALLY_REFUNDED):
            amount_minor = _refunded_cents(order)
        return NormalizedPaymentEvent(
            provider=VENDOR,
            reference=order["id"],
            outcome=verdict.outcome,
            reason=verdict.reason,
            dedupe_key=dedupe_key,
            amount_minor=amount_minor,
            currency=(amount or {}).get("currency_code"),
            receipt=capture["id"] if capture else None,
            vendor_code=vendor_code,
            merchant_reference=_first_unit(order).get("custom_id"),
            awaiting_capture=status == "APPROVED",
            raw=order,
        )

    async def parse_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, path_token: str | None = None
    ) -> list[NormalizedPaymentEvent]:
        event = await self._verified_event(headers, raw_body)
        event_type = str(event.get("event_type"))
        resource = event.get("resource") or {}
        verdict = classify(PAYPAL_EVENT_TYPES, event_type, vendor=VENDOR)
        dedupe_key = f"{VENDOR}:{event['id']}"
        if event.get("resource_type") == "checkout-order":
            order_event = self._order_event(resource, dedupe_key)
            return [order_event.model_copy(update={"vendor_code": event_type, "raw": event})]
        if event.get("resource_type") == "refund":
            return [await self._refund_event(event, resource, dedupe_key)]
        order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
        amount = resource.get("amount") or {}
        return [
            NormalizedPaymentEvent(
                provider=VENDOR,
                reference=order_id or resource.get("id") or event["id"],
                outcome=verdict.outcome,
                reason=verdict.reason,
                dedupe_key=dedupe_key,
                amount_minor=_cents(amount),
                currency=amount.get("currency_code"),
                receipt=resource.get("id"),
                vendor_code=event_type,
                merchant_reference=resource.get("custom_id"),
                raw=event,
            )
        ]

    async def _verified_event(self, headers: Mapping[str, str], raw_body: bytes) -> dict[str, Any]:
        received = canonical_headers(headers)
        missing = [name for name in _TRANSMISSION_HEADERS.values() if not received.get(name)]
        if missing:
            raise SignatureInvalid(f"PayPal webhook lacks {', '.join(missing)}", vendor=VENDOR)
        try:
            event = orjson.loads(raw_body)
        except orjson.JSONDecodeError as exc:
            raise SignatureInvalid("the body is not JSON", vendor=VENDOR) from exc
        if not isinstance(event, dict) or "id" not in event:
            raise SignatureInvalid("the body is not a PayPal event", vendor=VENDOR)
        fields = {field: received[header] for field, header in _TRANSMISSION_HEADERS.items()}
        fields["webhook_id"] = self._settings.webhook_id
        # The event goes back byte for byte: PayPal's check covers the body as it was sent.
        verification = orjson.dumps(fields)[:-1] + b',"webhook_event":' + raw_body + b"}"
        answer = await self._api(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            content=verification,
            content_type="application/json",
        )
        if answer.get("verification_status") != "SUCCESS":
            raise SignatureInvalid("PayPal did not verify the webhook signature", vendor=VENDOR)
        return event

    async def _refund_event(
        self, event: dict[str, Any], refund: dict[str, Any], dedupe_key: str
    ) -> NormalizedPaymentEvent:
        # A refund names only its capture; the capture leads to the order that is our reference.
        capture_url = next((link["href"] for link in refund.get("links", []) if link.get("rel") == "up"), "")
        capture = await self._api("GET", f"/v2/payments/captures/{capture_url.rstrip('/').rsplit('/', 1)[-1]}")
        verdict: Verdict = classify(PAYPAL_CAPTURE_STATUSES, capture.get("status", ""), vendor=VENDOR)
        total = (refund.get("seller_payable_breakdown") or {}).get("total_refunded_amount") or refund.get("amount")
        return NormalizedPaymentEvent(
            provider=VENDOR,
            reference=capture["supplementary_data"]["related_ids"]["order_id"],
            outcome=verdict.outcome,
            reason=verdict.reason,
            dedupe_key=dedupe_key,
            amount_minor=_cents(total),
            currency=(total or {}).get("currency_code"),
            receipt=refund.get("id"),
            vendor_code=event["event_type"],
            merchant_reference=refund.get("custom_id"),
            raw=event,
        )

    async def refund(self, reference: str, amount_minor: int | None, idempotency_key: str) -> RefundResult:
        capture = _capture_of(await self._api("GET", f"/v2/checkout/orders/{reference}"))
        if capture is None:
            raise VendorRejected("the PayPal order was never captured; there is nothing to refund", vendor=VENDOR)
        currency = capture["amount"]["currency_code"]
        body = {}
        if amount_minor is not None:
            body["amount"] = {"value": _money_value(amount_minor), "currency_code": currency}
        refund = await self._api(
            "POST", f"/v2/payments/captures/{capture['id']}/refund", request_id=idempotency_key, json=body
        )
        outcome = PAYPAL_REFUND_STATUSES.get(refund.get("status", ""), PaymentOutcome.UNKNOWN)
        if outcome is PaymentOutcome.REFUNDED:
            after = await self._api("GET", f"/v2/payments/captures/{capture['id']}")
            if after.get("status") == "PARTIALLY_REFUNDED":
                outcome = PaymentOutcome.PARTIALLY_REFUNDED
        return RefundResult(
            provider=VENDOR,
            reference=reference,
            refund_reference=refund["id"],
            outcome=outcome,
            amount_minor=_cents(refund.get("amount")) or 0,
            currency=currency,
            raw=refund,
        )

    async def transactions(self, start: datetime, end: datetime) -> list[VendorTransaction]:
        """Captures and refunds from Transaction Search, every page; PayPal lists a transaction up to three hours
        after it happened, which is why the daily reconciliation runs hours after midnight."""
        found: list[VendorTransaction] = []
        page, pages = 1, 1
        while page <= pages:
            body = await self._api("GET", TRANSACTIONS_PATH, params={**search_window(start, end), "page": str(page)})
            found += [m for d in body.get("transaction_details") or [] if (m := movement(d)) is not None]
            pages = int(body.get("total_pages") or 1)
            page += 1
        return found
