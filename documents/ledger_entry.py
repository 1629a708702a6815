"""The ledger: append-only, balanced double-entry entries in integer minor units, one per cause (a unique key)."""

from collections import defaultdict
from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel

from documents.clock import stored_now


class LedgerKind(StrEnum):
    PAYMENT_COLLECTED = "payment_collected"
    COMMISSION = "commission"
    HOST_EARNINGS = "host_earnings"
    REFUND = "refund"
    PAYOUT = "payout"
    VENDOR_FEE = "vendor_fee"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


class UnbalancedEntry(ValueError):
    """An entry's lines do not net to zero in every currency, or it says nothing."""


class LedgerLine(BaseModel):
    """One side of an entry: positive is a debit, negative a credit, in the currency's minor units."""

    account: str = Field(min_length=1, max_length=120)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    amount_minor: int


class LedgerCause(BaseModel):
    """What made the money move, as far as it is known."""

    payment_id: str | None = None
    purpose: str | None = None
    target_id: str | None = Field(None, description="the booking or ticket order")
    refund_key: str | None = None
    payout_id: str | None = None
    # The vendor's own id of a movement no payment or payout names (Paybill money that matched nothing): what
    # reconciliation finds it by at the vendor.
    receipt: str | None = None


def imbalance(lines: list[LedgerLine]) -> dict[str, int]:
    """Each currency whose lines do not net to zero, with what they net to."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.currency] += line.amount_minor
    return {currency: total for currency, total in totals.items() if total}


class LedgerEntry(Document):
    # One entry per cause: a duplicated callback or a retried job posting the same cause is refused by the index.
    key: str
    kind: LedgerKind
    lines: list[LedgerLine]
    cause: LedgerCause = LedgerCause()
    memo: str
    # An adjustment says why, and which admin made it.
    reason: str | None = None
    admin_id: str | None = None
    posted_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "ledger_entries"
        indexes = [
            IndexModel([("key", ASCENDING)], unique=True, name="one_entry_per_cause"),
            IndexModel([("lines.account", ASCENDING), ("_id", DESCENDING)], name="by_account"),
            IndexModel([("cause.payment_id", ASCENDING), ("_id", ASCENDING)], name="by_payment"),
            IndexModel([("kind", ASCENDING), ("_id", DESCENDING)], name="by_kind"),
        ]

    @model_validator(mode="after")
    def _balanced(self) -> "LedgerEntry":
        if len(self.lines) < 2 or not any(line.amount_minor for line in self.lines):
            raise UnbalancedEntry(f"entry {self.key} moves no money")
        if unbalanced := imbalance(self.lines):
            raise UnbalancedEntry(f"entry {self.key} does not balance: {unbalanced}")
        if self.kind is LedgerKind.ADJUSTMENT and not (self.reason and self.admin_id):
            raise UnbalancedEntry(f"adjustment {self.key} needs a reason and the admin who made it")
        return self
