"""The ledger's side of Paybill money that matched nothing: into suspense when it is held, out of suspense when an
admin assigns it (the payment's collection takes it from there) or when Daraja reverses it to the payer."""

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind
from documents.paybill import PaybillPayment
from gateway.ledger.accounts import SUSPENSE, cash
from gateway.ledger.posting import Line, ledger_entry, post_entry

# Paybill money is always M-Pesa's.
_VENDOR = "mpesa"


def _held_key(trans_id: str) -> str:
    return f"paybill:{trans_id}:suspense"


async def held_in_suspense(session: AsyncClientSession, trans_id: str) -> bool:
    """Whether the M-Pesa transaction's money was posted to suspense (it was held unmatched once), as this
    transaction sees it: its collection then comes out of suspense, not into cash a second time."""
    return await LedgerEntry.find_one({"key": _held_key(trans_id)}, session=session) is not None


async def post_held_in_suspense(session: AsyncClientSession, received: PaybillPayment) -> None:
    """The money reached the Paybill and matches nothing: cash at M-Pesa against suspense. Once per TransID, however
    often it is held again (a failed assignment, a refused reversal): later holds find it there already."""
    if await held_in_suspense(session, received.trans_id):
        return
    lines: list[Line] = [
        (cash(_VENDOR), received.currency, received.amount_minor),
        (SUSPENSE, received.currency, -received.amount_minor),
    ]
    memo = f"Paybill payment {received.trans_id} to account {received.account_reference!r} matches nothing"
    await post_entry(
        session, ledger_entry(
            _held_key(received.trans_id), LedgerKind.PAYMENT_COLLECTED, lines, LedgerCause(receipt=received.trans_id), memo
        )
    )


async def post_suspense_reversed(session: AsyncClientSession, received: PaybillPayment) -> None:
    """Daraja reversed the unmatched money to the payer: suspense settled from cash at M-Pesa, once."""
    if not await held_in_suspense(session, received.trans_id):
        return
    lines: list[Line] = [
        (SUSPENSE, received.currency, received.amount_minor),
        (cash(_VENDOR), received.currency, -received.amount_minor),
    ]
    memo = f"unmatched Paybill payment {received.trans_id} reversed to the payer ({received.reversal_receipt})"
    await post_entry(
        session, ledger_entry(
            f"paybill:{received.trans_id}:reversed",
            LedgerKind.REFUND,
            lines,
            LedgerCause(receipt=received.reversal_receipt),
            memo,
        )
    )
