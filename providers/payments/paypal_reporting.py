"""PayPal's Transaction Search (GET /v1/reporting/transactions) read as movements of the merchant's balance."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from providers.payments.statements import MovementKind, VendorTransaction

TRANSACTIONS_PATH = "/v1/reporting/transactions"
# PayPal's largest page, and its longest span per search.
PAGE_SIZE = 500
# Event codes: T00xx payments received (T0006 an Express Checkout capture), T11xx reversals (T1107 a refund the
# merchant made); the rest (holds, transfers, currency conversions) move no customer's money.
_COLLECTION_PREFIX = "T00"
_REFUND_PREFIX = "T11"
# S completed, P pending; D denied and V reversed moved no money.
_MOVED = {"S", "P"}
_CENTS = Decimal(100)


def search_window(start: datetime, end: datetime) -> dict[str, str]:
    """Query parameters for one span: PayPal takes ISO 8601 times with an offset; `end_date` is inclusive to the
    second, so the excluded end becomes its last second."""
    last = end.timestamp() - 1
    return {
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "end_date": datetime.fromtimestamp(last, start.tzinfo).strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fields": "transaction_info",
        "page_size": str(PAGE_SIZE),
    }


def _cents(amount: Any) -> int | None:
    try:
        return int(Decimal(str(amount["value"])) * _CENTS)
    except (KeyError, TypeError, InvalidOperation):
        return None


def movement(detail: dict[str, Any]) -> VendorTransaction | None:
    """A capture or refund of one `transaction_details` item; None for what is neither, or moved nothing."""
    info = detail.get("transaction_info") or {}
    code = str(info.get("transaction_event_code", ""))
    amount = _cents(info.get("transaction_amount"))
    if info.get("transaction_status") not in _MOVED or amount is None or not info.get("transaction_id"):
        return None
    if code.startswith(_COLLECTION_PREFIX):
        kind, reference = MovementKind.COLLECTION, info["transaction_id"]
    elif code.startswith(_REFUND_PREFIX):
        kind, reference = MovementKind.REFUND, info.get("paypal_reference_id") or info["transaction_id"]
    else:
        return None
    return VendorTransaction(
        reference=str(reference),
        kind=kind,
        transaction_id=str(info["transaction_id"]),
        amount_minor=amount,
        currency=str(info["transaction_amount"].get("currency_code", "")),
        # PayPal reports its fee signed as it moves the balance: negative when taken, positive when given back.
        fee_minor=-(_cents(info.get("fee_amount")) or 0),
        occurred_at=datetime.strptime(str(info.get("transaction_initiation_date")), "%Y-%m-%dT%H:%M:%S%z"),
        raw=detail,
    )
