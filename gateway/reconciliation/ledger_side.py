"""The ledger's side of a day: each entry that moved cash at a vendor, named by the vendor's id of the collection."""

from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from documents.ledger_entry import LedgerEntry, LedgerKind
from documents.payment import Payment
from documents.payout import Payout
from gateway.ledger.accounts import cash
from providers.payments import MovementKind

_KINDS = {
    LedgerKind.PAYMENT_COLLECTED: MovementKind.COLLECTION,
    LedgerKind.REFUND: MovementKind.REFUND,
    LedgerKind.PAYOUT: MovementKind.PAYOUT,
    LedgerKind.VENDOR_FEE: MovementKind.FEE,
}


@dataclass(frozen=True)
class LedgerMovement:
    reference: str
    kind: MovementKind
    currency: str
    amount_minor: int
    entry_key: str
    payment_id: str | None


async def cash_movements(
    provider: str, start: datetime, end: datetime, fee_keys: list[str] | None = None
) -> list[LedgerMovement]:
    """Entries posted in [start, end) with a line on the vendor's cash account. The day is read from the entries'
    ids, which are made as they are posted, so the by-account index serves the query whatever the ledger's size.
    Vendor fees are posted when the vendor's listing is read, a day later: they are the fee entries of the day's
    listing (`fee_keys`), whenever posted."""
    account = cash(provider)
    posted = {"$gte": ObjectId.from_datetime(start), "$lt": ObjectId.from_datetime(end)}
    of_the_day = {"lines.account": account, "_id": posted, "kind": {"$ne": LedgerKind.VENDOR_FEE.value}}
    entries = await LedgerEntry.find({"$or": [of_the_day, {"key": {"$in": fee_keys or []}}]}).sort([("_id", 1)]).to_list()
    payment_ids = {e.cause.payment_id for e in entries if e.cause.payment_id and ObjectId.is_valid(e.cause.payment_id)}
    payout_ids = {e.cause.payout_id for e in entries if e.cause.payout_id and ObjectId.is_valid(e.cause.payout_id)}
    receipts = {str(p.id): p.receipt async for p in Payment.find({"_id": {"$in": [ObjectId(i) for i in payment_ids]}})}
    receipts |= {str(p.id): p.receipt async for p in Payout.find({"_id": {"$in": [ObjectId(i) for i in payout_ids]}})}
    movements = []
    for entry in entries:
        cause_id = entry.cause.payment_id or entry.cause.payout_id
        # Without the vendor's id (an adjustment, a payment whose receipt never came) the entry names itself.
        reference = entry.cause.receipt or (receipts.get(cause_id) if cause_id else None) or entry.key
        for line in entry.lines:
            if line.account == account:
                movements.append(LedgerMovement(reference, _KINDS.get(entry.kind, MovementKind.OTHER), line.currency,
                                                line.amount_minor, entry.key, entry.cause.payment_id))  # fmt: skip
    return movements
