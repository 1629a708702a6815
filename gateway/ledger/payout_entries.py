"""The ledger's side of a payout: its amount reserved out of what the host is owed as it starts, then paid out of the
reservation with cash at the vendor, or returned to what the host is owed when no money moved."""

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind
from documents.payout import Payout
from gateway.ledger.accounts import cash, host_payable, payouts_in_flight
from gateway.ledger.posting import Line, ledger_entry, post_entry


def _reserved_key(payout: Payout) -> str:
    return f"payout:{payout.id}:reserved"


async def _post(session: AsyncClientSession, payout: Payout, key: str, lines: list[Line], memo: str) -> LedgerEntry:
    cause = LedgerCause(payout_id=str(payout.id))
    return await post_entry(session, ledger_entry(key, LedgerKind.PAYOUT, lines, cause, memo))


async def post_payout_reserved(session: AsyncClientSession, payout: Payout) -> LedgerEntry:
    """Posted in the transaction that read what the host is owed and saved the payout: it moves the host's balance,
    so a refund or another payout reading the same balance at once conflicts with it and is retried after it."""
    lines = [
        (host_payable(payout.user_id), payout.currency, payout.amount_minor),
        (payouts_in_flight(payout.user_id), payout.currency, -payout.amount_minor),
    ]
    return await _post(session, payout, _reserved_key(payout), lines, f"reserved for a payout to {payout.method}")


async def is_reserved(session: AsyncClientSession, payout: Payout) -> bool:
    """Whether the payout's amount was reserved, as this transaction sees it."""
    return await LedgerEntry.find_one({"key": _reserved_key(payout)}, session=session) is not None


async def _held_from(session: AsyncClientSession, payout: Payout) -> str:
    # A payout started before payouts were reserved, and settled before `lango migrate` reserved it, is settled
    # against what the host is owed, as it was then.
    return payouts_in_flight(payout.user_id) if await is_reserved(session, payout) else host_payable(payout.user_id)


async def post_payout_paid(session: AsyncClientSession, payout: Payout) -> LedgerEntry:
    """Posted in the transaction that marks the payout paid; its key makes a second posting abort that transaction."""
    lines = [
        (await _held_from(session, payout), payout.currency, payout.amount_minor),
        (cash(payout.method), payout.currency, -payout.amount_minor),
    ]
    return await _post(session, payout, f"payout:{payout.id}", lines, f"paid out to {payout.method}")


async def post_payout_returned(session: AsyncClientSession, payout: Payout) -> None:
    """Posted in the transaction that marks the payout failed: no money moved, so the host is owed its amount again."""
    held_in = await _held_from(session, payout)
    if held_in == host_payable(payout.user_id):
        return
    lines = [
        (held_in, payout.currency, payout.amount_minor),
        (host_payable(payout.user_id), payout.currency, -payout.amount_minor),
    ]
    await _post(session, payout, f"payout:{payout.id}:returned", lines, "returned: the payout moved no money")


async def owed_to(user_id: str, currency: str, session: AsyncClientSession | None = None) -> int:
    """What the ledger says the platform owes the person in this currency now, as this transaction sees it: sales net
    of commission and refunds, less what was paid out or is reserved for a payout on its way (never below zero)."""
    return max(0, -await LedgerBalance.of(host_payable(user_id), currency, session))
