"""A payment for one booking or ticket order: amounts, vendor references, and its forward-only states."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.clock import stored_now


class PaymentStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class PaymentPurpose(StrEnum):
    BOOKING = "booking"
    TICKET_ORDER = "ticket_order"


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    PENDING = "pending"
    MANUAL = "manual"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


OPEN = (PaymentStatus.CREATED, PaymentStatus.PENDING)
COLLECTED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
CLOSED_UNPAID = (PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.EXPIRED)
# The only moves there are: each state lists the states it may be reached from. A payment closed unpaid still
# becomes succeeded when the vendor collected the money after all (a late callback, a card retried on the same
# intent): the money is there, and its purpose then fulfils the target or has it returned.
REACHABLE_FROM: dict[PaymentStatus, tuple[PaymentStatus, ...]] = {
    PaymentStatus.PENDING: (PaymentStatus.CREATED,),
    PaymentStatus.SUCCEEDED: OPEN + CLOSED_UNPAID,
    PaymentStatus.FAILED: OPEN,
    PaymentStatus.CANCELLED: OPEN,
    PaymentStatus.EXPIRED: OPEN,
    PaymentStatus.PARTIALLY_REFUNDED: COLLECTED,
    PaymentStatus.REFUNDED: COLLECTED,
}


class PaymentStateConflict(Exception):
    """The payment was not in a state from which this move is allowed."""

    def __init__(self, payment_id: PydanticObjectId | None, wanted: PaymentStatus, current: PaymentStatus | None) -> None:
        super().__init__(f"payment {payment_id} cannot become {wanted} from {current or 'nothing'}")
        self.current = current


class ReceiptAlreadyUsed(Exception):
    """Another payment of the same vendor already holds this receipt: one collection never settles two payments."""


class PaymentRefund(BaseModel):
    """One refund asked for: in the requested currency, in the charged currency, and how the vendor answered."""

    key: str
    requested_minor: int
    amount_minor: int | None = Field(description="in the charged currency; None for everything left")
    status: RefundStatus = RefundStatus.REQUESTED
    reason: str
    vendor_reference: str | None = None
    note: str | None = None
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)


class PaymentFlag(BaseModel):
    """Something a person must look at: the money and the records disagree."""

    code: str
    detail: str
    at: datetime = Field(default_factory=stored_now)


class Payment(Document):
    user_id: str
    purpose: PaymentPurpose
    target_id: str
    # Set while this payment holds its target, so the database refuses a second live payment for it.
    active_key: str | None = None
    provider: str
    status: PaymentStatus = PaymentStatus.CREATED
    reason: str | None = None
    description: str
    requested_amount_minor: int
    requested_currency: str
    charged_amount_minor: int | None = None
    charged_currency: str | None = None
    provider_reference: str | None = None
    client_secret: str | None = None
    approve_url: str | None = None
    customer_message: str | None = None
    # The M-Pesa number the STK push went to; a callback naming another one is checked with Daraja first.
    payer_phone: str | None = None
    receipt: str | None = None
    refunded_minor: int = 0
    refunds: list[PaymentRefund] = Field(default_factory=list)
    flagged: PaymentFlag | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)
    settled_at: datetime | None = None

    class Settings:
        name = "payments"
        indexes = [
            IndexModel(
                [("user_id", ASCENDING), ("idempotency_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
                name="one_payment_per_idempotency_key",
            ),
            IndexModel(
                [("active_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"active_key": {"$type": "string"}},
                name="one_live_payment_per_target",
            ),
            IndexModel(
                [("provider", ASCENDING), ("provider_reference", ASCENDING)],
                unique=True,
                partialFilterExpression={"provider_reference": {"$type": "string"}},
                name="by_vendor_reference",
            ),
            IndexModel(
                [("provider", ASCENDING), ("receipt", ASCENDING)],
                unique=True,
                partialFilterExpression={"receipt": {"$type": "string"}},
                name="one_payment_per_receipt",
            ),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="by_status_age"),
            IndexModel([("purpose", ASCENDING), ("target_id", ASCENDING)], name="by_target"),
            IndexModel([("refunds.status", ASCENDING)], name="by_refund_status"),
        ]

    @staticmethod
    def active_key_for(purpose: PaymentPurpose, target_id: str) -> str:
        return f"{purpose.value}:{target_id}"

    async def mark_pending(
        self,
        provider_reference: str,
        charged_amount_minor: int,
        charged_currency: str,
        client_secret: str | None,
        approve_url: str | None,
        customer_message: str | None,
        reason: str,
    ) -> "Payment":
        """created -> pending once the vendor accepted the request and named its reference."""
        return await self._advance(
            PaymentStatus.PENDING,
            {
                "provider_reference": provider_reference,
                "charged_amount_minor": charged_amount_minor,
                "charged_currency": charged_currency,
                "client_secret": client_secret,
                "approve_url": approve_url,
                "customer_message": customer_message,
                "reason": reason,
            },
        )

    async def succeed(self, receipt: str | None, reason: str) -> "Payment":
        """open (or closed unpaid: collected after all) -> succeeded; ReceiptAlreadyUsed when another payment holds it."""
        try:
            return await self._advance(
                PaymentStatus.SUCCEEDED, {"receipt": receipt, "reason": reason, "settled_at": stored_now()}
            )
        except DuplicateKeyError:
            raise ReceiptAlreadyUsed(f"receipt {receipt} already settled another payment") from None

    async def close_unpaid(self, outcome: PaymentStatus, reason: str) -> "Payment":
        """created or pending -> failed, cancelled or expired; the target is free for another payment."""
        if outcome not in CLOSED_UNPAID:
            raise ValueError(f"{outcome} does not close a payment unpaid")
        return await self._advance(outcome, {"reason": reason, "settled_at": stored_now()}, unset=("active_key",))

    async def record_refunded(self, refunded_total_minor: int, fully: bool, reason: str) -> "Payment":
        """succeeded or partially refunded -> (partially) refunded, only ever with a larger refunded total."""
        target = PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
        return await self._advance(
            target,
            {"refunded_minor": refunded_total_minor, "reason": reason},
            extra_filter={"refunded_minor": {"$lt": refunded_total_minor}},
        )

    async def flag(self, code: str, detail: str) -> "Payment | None":
        """Mark the payment for a person to review; the first flag stays, later ones only reach the logs."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "flagged": None},
            {"$set": {"flagged": PaymentFlag(code=code, detail=detail).model_dump(), "updated_at": stored_now()}},
            return_document=ReturnDocument.AFTER,
        )
        return Payment.model_validate(updated) if updated else None

    async def add_refund(self, refund: PaymentRefund) -> "Payment | None":
        """Record a refund request once per key; None when one with this key is already recorded."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "status": {"$in": [status.value for status in COLLECTED]}, "refunds.key": {"$ne": refund.key}},
            {"$push": {"refunds": refund.model_dump()}, "$set": {"updated_at": stored_now()}},
            return_document=ReturnDocument.AFTER,
        )
        return Payment.model_validate(updated) if updated else None

    async def update_refund(self, key: str, status: RefundStatus, **fields: Any) -> "Payment":
        """Move one refund request on; a refund already succeeded is never changed back."""
        # The status is set last: SecantusDB matches the array filter anew for each field, so a status set first to
        # succeeded would keep the other fields (the vendor's reference, the amount) from being written.
        changes = {f"refunds.$[entry].{name}": value for name, value in {**fields, "status": status.value}.items()}
        unsettled = {"key": key, "status": {"$ne": RefundStatus.SUCCEEDED.value}}
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "refunds": {"$elemMatch": unsettled}},
            {"$set": {**changes, "refunds.$[entry].updated_at": stored_now(), "updated_at": stored_now()}},
            array_filters=[{f"entry.{name}": value for name, value in unsettled.items()}],
            return_document=ReturnDocument.AFTER,
        )
        return Payment.model_validate(updated) if updated else self

    async def _advance(
        self,
        target: PaymentStatus,
        changes: dict[str, Any],
        *,
        unset: tuple[str, ...] = (),
        extra_filter: dict[str, Any] | None = None,
    ) -> "Payment":
        """One conditional update: it applies only while the payment is in a state `target` may follow."""
        allowed = [status.value for status in REACHABLE_FROM[target]]
        update: dict[str, Any] = {"$set": {**changes, "status": target.value, "updated_at": stored_now()}}
        if unset:
            update["$unset"] = {name: "" for name in unset}
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "status": {"$in": allowed}, **(extra_filter or {})},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            current = await self.get_pymongo_collection().find_one({"_id": self.id}, {"status": 1})
            raise PaymentStateConflict(self.id, target, PaymentStatus(current["status"]) if current else None)
        return Payment.model_validate(updated)
