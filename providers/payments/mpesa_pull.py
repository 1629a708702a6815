"""Daraja's Pull Transactions answers read as the Paybill's incoming movements (STK and C2B payments)."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from providers.errors import VendorRejected, VendorUnavailable
from providers.payments.statements import MovementKind, VendorTransaction

PULL_PATH = "/pulltransactions/v1/query"
_EAT = timezone(timedelta(hours=3), "EAT")
_SUCCESS = "1000"
_KES_MINOR_PER_UNIT = 100
VENDOR = "mpesa"


def pull_query(shortcode: str, start: datetime, end: datetime, offset: int) -> dict[str, str]:
    """Daraja takes East Africa times to the second, both ends included: the excluded end becomes its last second."""
    last = end - timedelta(seconds=1)
    return {
        "ShortCode": shortcode,
        "StartDate": start.astimezone(_EAT).strftime("%Y-%m-%d %H:%M:%S"),
        "EndDate": last.astimezone(_EAT).strftime("%Y-%m-%d %H:%M:%S"),
        "OffSetValue": str(offset),
    }


def pulled_records(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of one answer (Safaricom nests them in a list of one list); VendorRejected when it refused."""
    if str(body.get("ResponseCode")) != _SUCCESS:
        raise VendorRejected(f"Daraja refused the pull query: {body.get('ResponseMessage')}", vendor=VENDOR)
    nested = body.get("Response") or [[]]
    records = nested[0] if nested and isinstance(nested[0], list) else nested
    return [record for record in records if isinstance(record, dict)]


def movement(record: dict[str, Any]) -> VendorTransaction:
    try:
        amount = int(Decimal(str(record["amount"])) * _KES_MINOR_PER_UNIT)
        occurred_at = datetime.strptime(str(record["trxDate"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        receipt = str(record["transactionId"])
    except (KeyError, InvalidOperation, ValueError) as exc:
        raise VendorUnavailable(f"a pulled M-Pesa record is malformed: {exc}", vendor=VENDOR) from exc
    return VendorTransaction(
        reference=receipt,
        kind=MovementKind.COLLECTION,
        transaction_id=receipt,
        amount_minor=amount,
        currency="KES",
        occurred_at=occurred_at,
        raw=record,
    )
