"""Admins finding payments: the newest first, or those a payment id, vendor reference or receipt names; and
what each vendor said about one, as it said it."""

from beanie import PydanticObjectId
from bson import ObjectId

from documents.payment import Payment
from documents.payment_event import PaymentEvent
from gateway.paging import newest_first
from gateway.security.callers import Caller, require_admin

VENDOR_RECORDS_SHOWN = 50


def _admin_only(caller: Caller) -> None:
    require_admin(caller, "only admins look payments up")


async def find_payments(caller: Caller, wanted: str, after: str | None, limit: int) -> tuple[list[Payment], str | None]:
    """Newest first: every payment, or those whose id, vendor reference or receipt is `wanted` (each one indexed)."""
    _admin_only(caller)
    wanted = wanted.strip()
    if not wanted:
        return await newest_first(Payment, {}, after, limit)
    named: list[dict[str, object]] = [{"provider_reference": wanted}, {"receipt": {"$in": [wanted, wanted.upper()]}}]
    if ObjectId.is_valid(wanted) and len(wanted) == 24:
        named.append({"_id": ObjectId(wanted)})
    return await newest_first(Payment, {"$or": named}, after, limit)


async def vendor_records(caller: Caller, payment: Payment) -> list[PaymentEvent]:
    """What the vendor sent about the payment (callbacks, webhooks, status queries), newest first, raw payload kept."""
    _admin_only(caller)
    return await PaymentEvent.find({"payment_id": PydanticObjectId(payment.id)}).sort([("_id", -1)]).limit(VENDOR_RECORDS_SHOWN).to_list()
