"""Reading the ledger: a host's earnings from their balances, and the admin's pages of entries and balances."""

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind, LedgerLine
from gateway.ledger.accounts import host_payable, host_receivable
from gateway.paging import newest_first


class CurrencyEarnings(BaseModel):
    """A host's money in one currency, as amounts in its minor units, all from the ledger."""

    currency: str
    gross_minor: int = Field(description="paid by guests and buyers for the host's stays and tickets")
    commission_minor: int = Field(description="the platform's commission out of it")
    refunded_minor: int = Field(description="the host's share of what went back to payers")
    earned_minor: int = Field(description="what the host earned: gross less commission, refunds and adjustments")
    paid_out_minor: int = Field(description="what was paid out to the host")
    pending_minor: int = Field(description="earned and not yet paid out")
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


async def earnings_of(user_id: str) -> EarningsView:
    """Per currency, from the user's payable and receivable balances: no line is summed on a read."""
    balances = await LedgerBalance.find({"account": {"$in": [host_payable(user_id), host_receivable(user_id)]}}).to_list()
    payable = {b.currency: b for b in balances if b.account == host_payable(user_id)}
    receivable = {b.currency: b for b in balances if b.account == host_receivable(user_id)}
    currencies = []
    for currency in sorted(set(payable) | set(receivable)):
        owed = payable.get(currency) or LedgerBalance(account=host_payable(user_id), currency=currency)
        owing = receivable.get(currency) or LedgerBalance(account=host_receivable(user_id), currency=currency)
        paid_out = owed.by_kind.get(LedgerKind.PAYOUT.value, 0)
        currencies.append(CurrencyEarnings(
            currency=currency,
            gross_minor=-owed.by_kind.get(LedgerKind.PAYMENT_COLLECTED.value, 0),
            commission_minor=owed.by_kind.get(LedgerKind.COMMISSION.value, 0),
            refunded_minor=owed.by_kind.get(LedgerKind.REVERSAL.value, 0) + owing.by_kind.get(LedgerKind.REVERSAL.value, 0),
            earned_minor=-(owed.balance_minor - paid_out) - owing.balance_minor,
            paid_out_minor=paid_out,
            pending_minor=max(0, -owed.balance_minor),
            owed_by_host_minor=max(0, owing.balance_minor),
        ))  # fmt: skip
    return EarningsView(user_id=user_id, currencies=currencies)


async def entries_page(
    account: str | None, kind: LedgerKind | None, payment_id: str | None, after: str | None, limit: int
) -> LedgerEntryPage:
    match: dict[str, Any] = {}
    if account:
        match["lines.account"] = account
    if kind:
        match["kind"] = kind.value
    if payment_id:
        match["cause.payment_id"] = payment_id
    entries, next_cursor = await newest_first(LedgerEntry, match, after, limit)
    return LedgerEntryPage(items=[LedgerEntryView.of(entry) for entry in entries], next_cursor=next_cursor)


async def balances_page(account_prefix: str | None, after: str | None, limit: int) -> LedgerBalancePage:
    match: dict[str, Any] = {"account": {"$regex": f"^{re.escape(account_prefix)}"}} if account_prefix else {}
    balances, next_cursor = await newest_first(LedgerBalance, match, after, limit)
    return LedgerBalancePage(items=[LedgerBalanceView.of(balance) for balance in balances], next_cursor=next_cursor)
