"""The append-only log of what payment vendors told us, raw payload included; its unique key is the deduplication."""

from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from documents.clock import stored_now


class PaymentEvent(Document):
    provider: str
    dedupe_key: str
    # How the statement reached us: a webhook, a status query, a capture or a refund answer.
    source: str
    reference: str
    outcome: str
    reason: str
    amount_minor: int | None = None
    currency: str | None = None
    receipt: str | None = None
    vendor_code: str | None = None
    merchant_reference: str | None = None
    awaiting_capture: bool = False
    payer_phone: str | None = None
    # An unsigned statement (M-Pesa's callback) settles a payment only when all it says agrees with the payment.
    unsigned: bool = False
    doubt: str | None = None
    occurred_at: datetime | None = None
    raw: dict[str, Any]
    received_at: datetime = Field(default_factory=stored_now)
    payment_id: PydanticObjectId | None = None
    # Set once the statement has been applied to its payment; what applying it did.
    applied_at: datetime | None = None
    result: str | None = None

    class Settings:
        name = "payment_events"
        indexes = [
            IndexModel([("provider", ASCENDING), ("dedupe_key", ASCENDING)], unique=True, name="one_per_vendor_statement"),
            IndexModel([("payment_id", ASCENDING), ("_id", DESCENDING)], name="by_payment"),
            IndexModel([("applied_at", ASCENDING), ("received_at", ASCENDING)], name="unapplied"),
        ]

    async def mark_applied(self, payment_id: PydanticObjectId | None, result: str) -> None:
        """Record what applying did; the vendor's statement itself is never changed."""
        await self.get_pymongo_collection().update_one(
            {"_id": self.id},
            {"$set": {"applied_at": stored_now(), "payment_id": payment_id, "result": result}},
        )
