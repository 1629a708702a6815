"""Card payments through Stripe PaymentIntents: creation, signed webhooks, status and refunds."""

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, ClassVar

import httpx
import orjson
import stripe
from pydantic import Field, SecretStr
from stripe.params import PaymentIntentCreateParams, RefundCreateParams

from providers.errors import ProviderMisconfigured, SignatureInvalid, VendorRejected, VendorUnavailable
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
    PARTIALLY_REFUNDED,
    REFUNDED,
    STRIPE_DECLINE_REASONS,
    STRIPE_EVENT_TYPES,
    STRIPE_INTENT_STATUSES,
    STRIPE_REFUND_STATUSES,
    Verdict,
    classify,
)
from providers.payments.statements import MovementKind, StatementSource, VendorTransaction
from providers.settings import HttpUrl, VendorSettings

VENDOR = "stripe"
TIMEOUT_S = 20.0
MAX_NETWORK_RETRIES = 2
# Stripe's largest page of a list.
LIST_PAGE_SIZE = 100
# Balance transaction types that take a payment in, and those that give one back.
_COLLECTION_TYPES = {"charge", "payment"}
_REFUND_TYPES = {"refund", "payment_refund"}


class StripeSettings(VendorSettings):
    """The `payments.stripe` settings: the secret key and the webhook endpoint's secret; `api_base` another API host."""

    section: ClassVar[str] = "payments.stripe"

    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    api_base: HttpUrl | None = None
    webhook_tolerance_s: int = Field(300, ge=1, le=3600)

    @property
    def has_credentials(self) -> bool:
        return None not in (self.api_key, self.webhook_secret)


class _SharedHttpxClient(stripe.HTTPClient):
    """Lets stripe-python send through the application's httpx client instead of opening its own."""

    name = "httpx"

    def __init__(self, http: httpx.AsyncClient, timeout: float) -> None:
        super().__init__()
        self._http = http
        self._timeout = timeout

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self._http.request(
                method, url, headers=dict(headers), content=post_data, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            # Stripe's own retry loop only retries connection errors of its own type.
            raise stripe.APIConnectionError(f"Stripe could not be reached: {exc!r}", should_retry=True) from exc
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Any:
        return asyncio.sleep(secs)


@contextmanager
def _stripe_errors() -> Iterator[None]:
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise VendorUnavailable(f"Stripe is unavailable: {exc.user_message}", vendor=VENDOR) from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise ProviderMisconfigured(f"Stripe refused the API key: {exc.user_message}", vendor=VENDOR) from exc
    except stripe.StripeError as exc:
        raise VendorRejected(
            f"Stripe rejected the request: {exc.user_message}", vendor=VENDOR, reason=exc.code or exc.user_message
        ) from exc


def _occurred_at(unix_seconds: Any) -> datetime | None:
    return datetime.fromtimestamp(unix_seconds, timezone.utc) if isinstance(unix_seconds, int) else None


def _redirect_url(intent: dict[str, Any]) -> str | None:
    """Where the intent's `next_action` sends the payer in a browser: Stripe's at a bank's 3-D Secure, the card
    sandbox's at its confirmation page from creation on."""
    action = intent.get("next_action") or {}
    url = (action.get("redirect_to_url") or {}).get("url") if action.get("type") == "redirect_to_url" else None
    return url if isinstance(url, str) else None


def _refund_verdict(charge: dict[str, Any]) -> Verdict:
    return REFUNDED if charge.get("refunded") else PARTIALLY_REFUNDED


def _intent_event(
    intent: dict[str, Any], verdict: Verdict, dedupe_key: str, vendor_code: str, raw: dict[str, Any]
) -> NormalizedPaymentEvent:
    amount = intent.get("amount")
    latest_charge = intent.get("latest_charge")
    charge = latest_charge if isinstance(latest_charge, dict) else None
    if verdict.outcome is PaymentOutcome.FAILED:
        error = intent.get("last_payment_error") or {}
        vendor_code = error.get("decline_code") or error.get("code") or vendor_code
        verdict = verdict._replace(reason=STRIPE_DECLINE_REASONS.get(vendor_code, verdict.reason))
    elif verdict.outcome is PaymentOutcome.SUCCEEDED:
        amount = intent.get("amount_received") or amount
        if charge and charge.get("amount_refunded"):
            verdict, amount = _refund_verdict(charge), charge["amount_refunded"]
    return NormalizedPaymentEvent(
        provider=VENDOR,
        reference=intent["id"],
        outcome=verdict.outcome,
        reason=verdict.reason,
        dedupe_key=dedupe_key,
        amount_minor=amount,
        currency=str(intent.get("currency", "")).upper() or None,
        receipt=charge["id"] if charge else latest_charge,
        vendor_code=vendor_code,
        merchant_reference=(intent.get("metadata") or {}).get("merchant_reference"),
        occurred_at=_occurred_at(intent.get("created")),
        raw=raw,
    )


def _charge_event(event: dict[str, Any], charge: dict[str, Any]) -> NormalizedPaymentEvent:
    verdict = _refund_verdict(charge)
    return NormalizedPaymentEvent(
        provider=VENDOR,
        reference=charge.get("payment_intent") or charge["id"],
        outcome=verdict.outcome,
        reason=verdict.reason,
        dedupe_key=f"{VENDOR}:{event['id']}",
        amount_minor=charge.get("amount_refunded"),
        currency=str(charge.get("currency", "")).upper() or None,
        receipt=charge["id"],
        vendor_code=event["type"],
        merchant_reference=(charge.get("metadata") or {}).get("merchant_reference"),
        occurred_at=_occurred_at(event.get("created")),
        raw=event,
    )


def _balance_movement(transaction: dict[str, Any]) -> VendorTransaction | None:
    """A charge or refund from a balance transaction whose source was expanded; None for fees, payouts and the rest."""
    kind = transaction.get("type")
    source = transaction.get("source")
    if not isinstance(source, dict) or kind not in _COLLECTION_TYPES | _REFUND_TYPES:
        return None
    charge = source["id"] if kind in _COLLECTION_TYPES else source.get("charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    return VendorTransaction(
        reference=str(charge or source["id"]),
        kind=MovementKind.COLLECTION if kind in _COLLECTION_TYPES else MovementKind.REFUND,
        transaction_id=str(transaction["id"]),
        amount_minor=int(transaction["amount"]),
        currency=str(transaction["currency"]).upper(),
        # Stripe's fee on the same balance transaction, in its currency (`fee_details` splits it by kind).
        fee_minor=int(transaction.get("fee") or 0),
        occurred_at=datetime.fromtimestamp(int(transaction["created"]), timezone.utc),
        raw=transaction,
    )


class StripeProvider(PaymentProvider, StatementSource):
    """Creates PaymentIntents the app confirms with their client secret; fulfilment follows the webhook."""

    name: ClassVar[str] = VENDOR
    statement_covers: ClassVar[frozenset[MovementKind]] = frozenset(
        {MovementKind.COLLECTION, MovementKind.REFUND, MovementKind.FEE}
    )

    def __init__(
        self, settings: StripeSettings, http: httpx.AsyncClient, *, max_network_retries: int = MAX_NETWORK_RETRIES
    ) -> None:
        settings.require("api_key", "webhook_secret", vendor=VENDOR)
        self._settings = settings
        self._client = stripe.StripeClient(
            settings.api_key.get_secret_value(),
            base_addresses={"api": settings.api_base.rstrip("/")} if settings.api_base else None,
            max_network_retries=max_network_retries,
            http_client=_SharedHttpxClient(http, TIMEOUT_S),
        )
        # stripe-python imports a service on first use; resolving them here keeps those
        # imports at start-up instead of stalling the event loop during the first payment.
        self._payment_intents = self._client.v1.payment_intents
        self._refunds = self._client.v1.refunds
        self._balance_transactions = self._client.v1.balance_transactions

    async def initiate(self, request: PaymentRequest) -> Initiation:
        params: PaymentIntentCreateParams = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "description": request.description,
            "metadata": {**request.metadata, "merchant_reference": request.merchant_reference},
            "automatic_payment_methods": {"enabled": True},
        }
        with _stripe_errors():
            intent = await self._payment_intents.create_async(
                params, options={"idempotency_key": request.idempotency_key}
            )
        return Initiation(
            provider=VENDOR,
            reference=intent.id,
            requested_amount_minor=request.amount_minor,
            requested_currency=request.currency,
            charged_amount_minor=intent.amount,
            charged_currency=intent.currency.upper(),
            client_secret=intent.client_secret,
            confirm_url=_redirect_url(intent.to_dict()),
            raw=intent.to_dict(),
        )

    async def parse_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, path_token: str | None = None
    ) -> list[NormalizedPaymentEvent]:
        signature = canonical_headers(headers).get("stripe-signature")
        try:
            stripe.WebhookSignature.verify_header(
                raw_body,
                signature,
                self._settings.webhook_secret.get_secret_value(),
                tolerance=self._settings.webhook_tolerance_s,
            )
            event = orjson.loads(raw_body)
            obj = event["data"]["object"]
            event_id, event_type = event["id"], event["type"]
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise SignatureInvalid(f"Stripe-Signature does not verify: {exc}", vendor=VENDOR) from exc
        except (KeyError, TypeError) as exc:
            raise SignatureInvalid("the body is not a Stripe event", vendor=VENDOR) from exc
        verdict = classify(STRIPE_EVENT_TYPES, event_type, vendor=VENDOR)
        if obj.get("object") == "charge" and verdict.outcome is PaymentOutcome.REFUNDED:
            return [_charge_event(event, obj)]
        if obj.get("object") == "payment_intent":
            return [_intent_event(obj, verdict, f"{VENDOR}:{event_id}", event_type, event)]
        return [
            NormalizedPaymentEvent(
                provider=VENDOR,
                reference=obj.get("payment_intent") or obj.get("id") or event_id,
                outcome=PaymentOutcome.UNKNOWN,
                reason=verdict.reason,
                dedupe_key=f"{VENDOR}:{event_id}",
                vendor_code=event_type,
                occurred_at=_occurred_at(event.get("created")),
                raw=event,
            )
        ]

    async def query_status(self, reference: str) -> NormalizedPaymentEvent:
        with _stripe_errors():
            intent = await self._payment_intents.retrieve_async(
                reference, params={"expand": ["latest_charge"]}
            )
        raw = intent.to_dict()
        status = raw.get("status", "")
        verdict = classify(STRIPE_INTENT_STATUSES, status, vendor=VENDOR)
        if status == "requires_payment_method" and raw.get("last_payment_error"):
            verdict = STRIPE_EVENT_TYPES["payment_intent.payment_failed"]
        return _intent_event(raw, verdict, f"{VENDOR}:{reference}:{status}", status, raw)

    async def refund(self, reference: str, amount_minor: int | None, idempotency_key: str) -> RefundResult:
        params: RefundCreateParams = {"payment_intent": reference, "expand": ["charge"]}
        if amount_minor is not None:
            params["amount"] = amount_minor
        with _stripe_errors():
            refund = await self._refunds.create_async(params, options={"idempotency_key": idempotency_key})
        raw = refund.to_dict()
        outcome = STRIPE_REFUND_STATUSES.get(raw.get("status", ""), PaymentOutcome.UNKNOWN)
        charge = raw.get("charge")
        if outcome is PaymentOutcome.REFUNDED and isinstance(charge, dict):
            outcome = _refund_verdict(charge).outcome
        return RefundResult(
            provider=VENDOR,
            reference=reference,
            refund_reference=raw["id"],
            outcome=outcome,
            amount_minor=raw["amount"],
            currency=str(raw["currency"]).upper(),
            raw=raw,
        )

    async def transactions(self, start: datetime, end: datetime) -> list[VendorTransaction]:
        """Balance transactions created in [start, end), each with its charge or refund expanded to name the charge."""
        params: dict[str, Any] = {
            "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
            "limit": LIST_PAGE_SIZE,
            "expand": ["data.source"],
        }
        found: list[VendorTransaction] = []
        with _stripe_errors():
            page = await self._balance_transactions.list_async(params)  # type: ignore[arg-type]
            async for transaction in page.auto_paging_iter():
                movement = _balance_movement(transaction.to_dict())
                if movement is not None:
                    found.append(movement)
        return found
