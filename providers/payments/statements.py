"""The vendor's own record of money moved, for reconciling the ledger: one contract, each payment adapter answers it."""

from abc import ABC, abstractmethod
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from providers.payments.base import CurrencyCode


class MovementKind(StrEnum):
    """What a movement of cash at a vendor was, as both the ledger and the vendor can tell it."""

    COLLECTION = "collection"
    REFUND = "refund"
    PAYOUT = "payout"
    # What the vendor kept of a movement: its fee, named by the movement's collection.
    FEE = "fee"
    OTHER = "other"


class VendorTransaction(BaseModel):
    """One movement on the vendor's books: which charge it belongs to, and how much moved (signed, minor units)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str = Field(
        description="the collection it belongs to: M-Pesa receipt, Stripe charge id, PayPal capture id"
    )
    kind: MovementKind
    transaction_id: str = Field(description="the vendor's id of this movement itself (a refund's own id)")
    amount_minor: int = Field(description="money in positive, out negative, gross of the vendor's fees")
    currency: CurrencyCode
    fee_minor: int = Field(
        0, description="what the vendor kept of this movement, in its currency (negative: a fee it gave back)"
    )
    occurred_at: datetime
    raw: dict[str, Any]


class StatementSource(ABC):
    """A vendor that lists what moved through the merchant's account over a span of time."""

    name: ClassVar[str]
    # The kinds of movement the vendor's listing covers; ledger movements of other kinds cannot be checked there.
    statement_covers: ClassVar[frozenset[MovementKind]]

    @abstractmethod
    async def transactions(self, start: datetime, end: datetime) -> list[VendorTransaction]:
        """Every movement from `start` (included) to `end` (excluded), all pages of the vendor's listing read."""
