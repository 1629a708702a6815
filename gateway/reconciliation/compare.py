"""Setting a day's ledger movements against the vendor's: one row per collection, kind and currency."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from documents.reconciliation import B2cCheck, CurrencyTotals, RowStatus
from gateway.reconciliation.ledger_side import LedgerMovement
from providers.payments import MovementKind, VendorTransaction

Key = tuple[str, MovementKind, str]
_READ_RANK = {RowStatus.MATCHED: 1, RowStatus.PENDING: 2, RowStatus.NOT_CHECKED: 3}
# Rows whose vendor side is not known (yet), left out of the totals.
_UNCOUNTED = (RowStatus.NOT_CHECKED, RowStatus.PENDING)


class SummedRow(Protocol):
    status: RowStatus
    currency: str
    ledger_minor: int | None
    vendor_minor: int | None


@dataclass
class ComparedRow:
    reference: str
    kind: MovementKind
    currency: str
    status: RowStatus
    ledger_minor: int | None
    vendor_minor: int | None
    payment_id: str | None = None
    entry_keys: list[str] = field(default_factory=list)
    vendor_ids: list[str] = field(default_factory=list)

    @property
    def difference_minor(self) -> int:
        return (self.ledger_minor or 0) - (self.vendor_minor or 0)


def _status(ledger: int | None, vendor: int | None, checked: bool) -> RowStatus:
    if ledger is not None and vendor is None:
        return RowStatus.MISSING_AT_VENDOR if checked else RowStatus.NOT_CHECKED
    if ledger is None:
        return RowStatus.MISSING_IN_LEDGER
    return RowStatus.MATCHED if ledger == vendor else RowStatus.AMOUNT_DIFFERS


def b2c_outcome(ledger_minor: int | None, checks: Sequence[B2cCheck]) -> tuple[RowStatus, int | None]:
    """A row of B2C movements: pending while any of its checks is; then what M-Pesa moved against the ledger."""
    if any(check.status == RowStatus.PENDING for check in checks):
        return RowStatus.PENDING, None
    moved = [check.vendor_minor for check in checks if check.vendor_minor is not None]
    vendor_minor = sum(moved) if moved else None
    return _status(ledger_minor, vendor_minor, True), vendor_minor


def compare(
    ledger: list[LedgerMovement], vendor: list[VendorTransaction], covers: frozenset[MovementKind],
    b2c: dict[str, B2cCheck] | None = None,
) -> list[ComparedRow]:
    """Amounts summed per key on each side (a charge refunded twice in a day is one refund row), then set side by
    side. Ledger movements of kinds the vendor's listing does not cover are listed, not checked, unless each was
    checked on its own (`b2c`, by entry key: M-Pesa's B2C payments through Transaction Status)."""
    b2c = b2c or {}
    rows: dict[Key, ComparedRow] = {}
    for movement in ledger:
        key = (movement.reference, movement.kind, movement.currency)
        row = rows.setdefault(key, ComparedRow(*key, RowStatus.MATCHED, 0, None, movement.payment_id))
        row.ledger_minor = (row.ledger_minor or 0) + movement.amount_minor
        row.entry_keys.append(movement.entry_key)
    for transaction in vendor:
        key = (transaction.reference, transaction.kind, transaction.currency)
        row = rows.setdefault(key, ComparedRow(*key, RowStatus.MATCHED, None, None))
        row.vendor_minor = (row.vendor_minor or 0) + transaction.amount_minor
        row.vendor_ids.append(transaction.transaction_id)
        if transaction.fee_minor:
            # Amounts are listed gross; the fee left the account beside them, and the ledger posts it on its own.
            fee_row = rows.setdefault((transaction.reference, MovementKind.FEE, transaction.currency),
                                      ComparedRow(transaction.reference, MovementKind.FEE, transaction.currency,
                                                  RowStatus.MATCHED, None, None))  # fmt: skip
            fee_row.vendor_minor = (fee_row.vendor_minor or 0) - transaction.fee_minor
            fee_row.vendor_ids.append(transaction.transaction_id)
    for row in rows.values():
        checks = [b2c[key] for key in row.entry_keys if key in b2c]
        if checks and row.vendor_minor is None:
            row.status, row.vendor_minor = b2c_outcome(row.ledger_minor, checks)
            continue
        row.status = _status(row.ledger_minor, row.vendor_minor, row.kind in covers)
    # Stored in this order and read newest first: mismatches come first, then the matched, the
    # pending, and those not checked.
    return sorted(rows.values(), key=lambda r: (_READ_RANK.get(r.status, 0), r.kind, r.reference), reverse=True)


def summarise(rows: Sequence[SummedRow]) -> tuple[dict[str, int], list[CurrencyTotals]]:
    """Rows per status, and per currency what the ledger and the vendor moved over the rows both could see."""
    counts = Counter(row.status.value for row in rows)
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row.status not in _UNCOUNTED:
            sums[row.currency][0] += row.ledger_minor or 0
            sums[row.currency][1] += row.vendor_minor or 0
    totals = [
        CurrencyTotals(currency=c, ledger_minor=l, vendor_minor=v, difference_minor=l - v)
        for c, (l, v) in sorted(sums.items())
    ]
    return {status.value: counts.get(status.value, 0) for status in RowStatus}, totals
