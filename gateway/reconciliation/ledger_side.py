"""The ledger's side of a day: each entry that moved cash at a vendor, named by the vendor's id of the collection."""

from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from documents.ledger_entry import LedgerEntry, LedgerKind
from documents.payment import Payment, RefundStatus
from documents.payout import Payout
from gateway.ledger.accounts import cash
from gateway.payments.mpesa_refunds import refund_originator_id
from providers.payments import MovementKind

MPESA = "mpesa"
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
    # An M-Pesa B2C payment (a payout, a refund): the OriginatorConversationID Daraja's Transaction Status knows it by.
    b2c_originator: str | None = None


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
    payments = {str(p.id): p async for p in Payment.find({"_id": {"$in": [ObjectId(i) for i in payment_ids]}})}
    receipts = {i: p.receipt for i, p in payments.items()}
    receipts |= {str(p.id): p.receipt async for p in Payout.find({"_id": {"$in": [ObjectId(i) for i in payout_ids]}})}
    b2c = _b2c_requests(entries, payments) if provider == MPESA else {}
    movements = []
    for entry in entries:
        cause_id = entry.cause.payment_id or entry.cause.payout_id
        # Without the vendor's id (an adjustment, a payment whose receipt never came) the entry names itself.
        reference = entry.cause.receipt or (receipts.get(cause_id) if cause_id else None) or entry.key
        for line in entry.lines:
            if line.account == account:
                movements.append(LedgerMovement(reference, _KINDS.get(entry.kind, MovementKind.OTHER), line.currency,
                                                line.amount_minor, entry.key, entry.cause.payment_id,
                                                b2c.get(entry.key)))  # fmt: skip
    return movements


def _b2c_requests(entries: list[LedgerEntry], payments: dict[str, Payment]) -> dict[str, str]:
    """Entry key -> OriginatorConversationID of the B2C request that moved its money: a payout sends its own id; a
    refund sent is the payment's succeeded M-Pesa refund of the same amount that no earlier entry was matched to
    (the entry names the payment's refunded total, not the refund)."""
    found: dict[str, str] = {}
    taken: set[tuple[str, str]] = set()
    for entry in entries:
        if entry.kind == LedgerKind.PAYOUT and entry.cause.payout_id:
            found[entry.key] = entry.cause.payout_id
        payment = payments.get(entry.cause.payment_id or "")
        if entry.kind != LedgerKind.REFUND or payment is None:
            continue
        sent = -sum(line.amount_minor for line in entry.lines if line.account == cash(MPESA))
        refund = next((r for r in sorted(payment.refunds, key=lambda r: r.updated_at)
                       if r.status == RefundStatus.SUCCEEDED and r.amount_minor == sent and (str(payment.id), r.key) not in taken), None)  # fmt: skip
        if refund is not None:
            taken.add((str(payment.id), refund.key))
            found[entry.key] = refund_originator_id(payment, refund)
    return found
