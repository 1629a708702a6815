"""The payment provider contract: what the gateway asks of a vendor and the normalized answers."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, StringConstraints

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class PaymentOutcome(StrEnum):
    """The closed set of states a vendor's answer about a payment is reduced to."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    UNKNOWN = "unknown"


class _PaymentModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentRequest(_PaymentModel):
    """Ask a vendor to collect `amount_minor` of `currency` for one payment of ours."""

    merchant_reference: str = Field(min_length=1, max_length=64, description="our payment id")
    amount_minor: PositiveInt
    currency: CurrencyCode
    description: str = Field(min_length=1, max_length=127)
    idempotency_key: str = Field(min_length=1, max_length=255)
    phone: str | None = Field(default=None, description="the payer's phone, required by M-Pesa")
    metadata: dict[str, str] = Field(default_factory=dict)


class Initiation(_PaymentModel):
    """A vendor accepted a payment request; the payer still has to act."""

    provider: str
    reference: str = Field(description="CheckoutRequestID / PaymentIntent id / PayPal order id")
    outcome: PaymentOutcome = PaymentOutcome.PENDING
    requested_amount_minor: int
    requested_currency: CurrencyCode
    charged_amount_minor: int = Field(description="what the vendor will collect, after any conversion")
    charged_currency: CurrencyCode
    client_secret: str | None = Field(default=None, description="Stripe: handed to the app to confirm")
    approve_url: str | None = Field(default=None, description="PayPal: where the payer approves")
    confirm_url: str | None = Field(
        default=None, description="Stripe: a page where the payer confirms in a browser (the card sandbox's page)"
    )
    customer_message: str | None = Field(default=None, description="M-Pesa: what the payer is told")
    raw: dict[str, Any]


class NormalizedPaymentEvent(_PaymentModel):
    """One vendor statement about a payment, reduced to the project's own vocabulary."""

    provider: str
    reference: str
    outcome: PaymentOutcome
    reason: str = Field(description="an English sentence the payer can be shown")
    dedupe_key: str
    amount_minor: int | None = Field(
        default=None, description="collected amount, or the total refunded so far for refund outcomes"
    )
    currency: CurrencyCode | None = None
    receipt: str | None = Field(default=None, description="MpesaReceiptNumber / charge id / capture id")
    vendor_code: str | None = None
    merchant_reference: str | None = None
    occurred_at: datetime | None = None
    awaiting_capture: bool = Field(default=False, description="approved by the payer; capture to collect")
    payer_phone: str | None = Field(default=None, description="the number that paid, as the vendor names it (M-Pesa)")
    unsigned: bool = Field(
        default=False,
        description="sent without a vendor signature (M-Pesa's callback): it settles a payment only when all it says "
        "agrees with the payment; otherwise the vendor's API is asked",
    )
    doubt: str | None = Field(default=None, description="what the adapter already found wrong (an amount missing or garbled)")
    raw: dict[str, Any]


class RefundResult(_PaymentModel):
    """What a vendor answered to a refund of a settled payment."""

    provider: str
    reference: str
    refund_reference: str
    outcome: PaymentOutcome
    amount_minor: int
    currency: CurrencyCode
    raw: dict[str, Any]


def canonical_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case header names so lookups work for plain dicts as for aiohttp's multidicts."""
    return {name.lower(): value for name, value in headers.items()}


class PaymentProvider(ABC):
    """One vendor's way of collecting, reporting and returning money."""

    name: ClassVar[str]

    @abstractmethod
    async def initiate(self, request: PaymentRequest) -> Initiation:
        """Start collecting a payment: STK push, PaymentIntent or PayPal order."""

    @abstractmethod
    async def parse_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, path_token: str | None = None
    ) -> list[NormalizedPaymentEvent]:
        """Verify a vendor notification (raising SignatureInvalid) and normalize what it reports."""

    @abstractmethod
    async def query_status(self, reference: str) -> NormalizedPaymentEvent:
        """Ask the vendor where a payment stands, for reconciliation when notifications are missing."""

    @abstractmethod
    async def refund(self, reference: str, amount_minor: int | None, idempotency_key: str) -> RefundResult:
        """Return `amount_minor` (in the charged currency; None for all that is left) of a settled payment."""
