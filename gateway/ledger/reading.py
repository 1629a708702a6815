"""Reading the ledger: a host's earnings from their balances, and the admin's pages of entries and balances."""

import re
from typing import Any

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry, LedgerKind
from gateway.ledger.accounts import host_payable, host_receivable, payouts_in_flight
from gateway.ledger.views import (
    CurrencyEarnings,
    EarningsView,
    LedgerBalancePage,
    LedgerBalanceView,
    LedgerEntryPage,
    LedgerEntryView,
)
from gateway.paging import newest_first
from gateway.security.callers import Caller, require_admin


async def earnings_of(caller: Caller) -> EarningsView:
    """The caller's own, per currency, from their payable, receivable and in-flight balances: no line is summed on a
    read."""
    user_id = caller.user_id
    accounts = [host_payable(user_id), host_receivable(user_id), payouts_in_flight(user_id)]
    balances = await LedgerBalance.find({"account": {"$in": accounts}}).to_list()
    by_account = {(b.account, b.currency): b for b in balances}
    currencies = []
    for currency in sorted({b.currency for b in balances}):
        owed, owing, in_flight = (by_account.get((a, currency)) or LedgerBalance(account=a, currency=currency) for a in accounts)
        # A payout's amount leaves what the host is owed as it starts (reserved); paid out once the vendor says so.
        reserved = owed.by_kind.get(LedgerKind.PAYOUT.value, 0)
        on_the_way = max(0, -in_flight.balance_minor)
        currencies.append(CurrencyEarnings(
            currency=currency,
            gross_minor=-owed.by_kind.get(LedgerKind.PAYMENT_COLLECTED.value, 0),
            commission_minor=owed.by_kind.get(LedgerKind.COMMISSION.value, 0),
            refunded_minor=owed.by_kind.get(LedgerKind.REVERSAL.value, 0) + owing.by_kind.get(LedgerKind.REVERSAL.value, 0),
            earned_minor=-(owed.balance_minor - reserved) - owing.balance_minor,
            paid_out_minor=reserved - on_the_way,
            pending_minor=max(0, -owed.balance_minor),
            on_the_way_minor=on_the_way,
            owed_by_host_minor=max(0, owing.balance_minor),
        ))  # fmt: skip
    return EarningsView(user_id=user_id, currencies=currencies)


_ADMINS_ONLY = "only admins read the ledger"


async def entries_page(
    caller: Caller, account: str | None, kind: LedgerKind | None, payment_id: str | None, after: str | None, limit: int
) -> LedgerEntryPage:
    require_admin(caller, _ADMINS_ONLY)
    match: dict[str, Any] = {}
    if account:
        match["lines.account"] = account
    if kind:
        match["kind"] = kind.value
    if payment_id:
        match["cause.payment_id"] = payment_id
    entries, next_cursor = await newest_first(LedgerEntry, match, after, limit)
    return LedgerEntryPage(items=[LedgerEntryView.of(entry) for entry in entries], next_cursor=next_cursor)


async def balances_page(caller: Caller, account_prefix: str | None, after: str | None, limit: int) -> LedgerBalancePage:
    require_admin(caller, _ADMINS_ONLY)
    match: dict[str, Any] = {"account": {"$regex": f"^{re.escape(account_prefix)}"}} if account_prefix else {}
    balances, next_cursor = await newest_first(LedgerBalance, match, after, limit)
    return LedgerBalancePage(items=[LedgerBalanceView.of(balance) for balance in balances], next_cursor=next_cursor)
