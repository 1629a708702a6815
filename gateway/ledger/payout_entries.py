"""The ledger's side of a payout: what a host is owed falls by what reached their phone, and cash at the vendor with it."""

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind
from documents.payout import Payout
from gateway.ledger.accounts import cash, host_payable
from gateway.ledger.posting import ledger_entry, post_entry


async def post_payout_paid(session: AsyncClientSession, payout: Payout) -> LedgerEntry:
    """Posted in the transaction that marks the payout paid; its key makes a second posting abort that transaction."""
    lines = [
        (host_payable(payout.user_id), payout.currency, payout.amount_minor),
        (cash(payout.method), payout.currency, -payout.amount_minor),
    ]
    memo = f"paid out to {payout.method}"
    entry = ledger_entry(f"payout:{payout.id}", LedgerKind.PAYOUT, lines, LedgerCause(payout_id=str(payout.id)), memo)
    return await post_entry(session, entry)


async def owed_to(user_id: str, currency: str) -> int:
    """What the ledger says the platform owes the person in this currency now: sales net of commission and refunds,
    less what was paid out (never below zero)."""
    return max(0, -await LedgerBalance.of(host_payable(user_id), currency))
