"""Posting an entry: inserted with its balances moved, inside the transaction of the state change that causes it."""

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind, LedgerLine

Line = tuple[str, str, int]


def ledger_entry(key: str, kind: LedgerKind, lines: list[Line], cause: LedgerCause, memo: str, **extra: str) -> LedgerEntry:
    """An entry of (account, currency, signed minor units) lines, lines of zero left out; refused unless balanced."""
    kept = [LedgerLine(account=account, currency=currency, amount_minor=amount) for account, currency, amount in lines if amount]
    return LedgerEntry(key=key, kind=kind, lines=kept, cause=cause, memo=memo, **extra)


async def post_entry(session: AsyncClientSession, entry: LedgerEntry) -> LedgerEntry:
    """Append the entry and add its lines to the balances, in the caller's transaction. A second entry for the same
    cause fails on the unique key (DuplicateKeyError), which aborts the whole transaction: its state change too."""
    await entry.insert(session=session)
    await LedgerBalance.apply(entry, session)
    return entry
