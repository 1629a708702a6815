"""What the ledger's routes answer: a host's earnings, entries and balances, and pages of them."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind, LedgerLine


class CurrencyEarnings(BaseModel):
    """A host's money in one currency, as amounts in its minor units, all from the ledger."""

    currency: str
    gross_minor: int = Field(description="paid by guests and buyers for the host's stays and tickets")
    commission_minor: int = Field(description="the platform's commission out of it")
    refunded_minor: int = Field(description="the host's share of what went back to payers")
    earned_minor: int = Field(description="what the host earned: gross less commission, refunds and adjustments")
    paid_out_minor: int = Field(description="what was paid out to the host")
    pending_minor: int = Field(description="earned and not yet paid out, still held back: stays checked into or events "
                               "held less than payouts.holdback_s ago (all of it in a currency not paid out)")  # fmt: skip
    payable_minor: int = Field(0, description="earned, past the holdback: what the next payout pays")
    on_the_way_minor: int = Field(0, description="in a payout sent and not yet confirmed by the vendor")
    owed_by_host_minor: int = Field(description="a refund's share beyond what the host was still owed; kept from later earnings")


class EarningsView(BaseModel):
    user_id: str
    currencies: list[CurrencyEarnings]


class LedgerEntryView(BaseModel):
    id: str
    key: str
    kind: LedgerKind
    lines: list[LedgerLine] = Field(description="signed minor units: a debit positive, a credit negative; each currency nets to 0")
    cause: LedgerCause
    memo: str
    reason: str | None
    admin_id: str | None
    posted_at: datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> "LedgerEntryView":
        return cls(id=str(entry.id), **entry.model_dump(exclude={"id", "revision_id"}))


class LedgerEntryPage(BaseModel):
    items: list[LedgerEntryView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last")


class LedgerBalanceView(BaseModel):
    account: str
    currency: str
    balance_minor: int = Field(description="the sum of the account's lines: positive a debit balance, negative a credit one")
    by_kind: dict[str, int]
    updated_at: datetime

    @classmethod
    def of(cls, balance: LedgerBalance) -> "LedgerBalanceView":
        return cls(**balance.model_dump(include={"account", "currency", "balance_minor", "by_kind", "updated_at"}))


class LedgerBalancePage(BaseModel):
    items: list[LedgerBalanceView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")
