"""A payment for one booking or ticket order: amounts, vendor references, and its forward-only states."""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.clock import stored_now
from documents.state import AdvancesState, StateConflict


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


class PaymentStateConflict(StateConflict):
    """The payment was not in a state from which this move is allowed."""

    noun = "payment"


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


class Payment(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = PaymentStateConflict

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
    # Who the money is for (the listing's agent, the event's host) and the platform's commission out of it, frozen
    # from the booking or order when the payment starts; the ledger splits the collection by them.
    payee_id: str | None = None
    platform_fee_minor: int = 0
    charged_amount_minor: int | None = None
    charged_currency: str | None = None
    provider_reference: str | None = None
    client_secret: str | None = None
    approve_url: str | None = None
    confirm_url: str | None = None
    customer_message: str | None = None
    # The M-Pesa number the STK push went to; a callback naming another one is checked with Daraja first.
    payer_phone: str | None = None
    receipt: str | None = None
    refunded_minor: int = 0
    # In the requested currency: how much of the price is owed back or returned, refunds asked and made; never more
    # than the price, so no refund can exceed what was collected.
    refunds_owed_minor: int = 0
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
        confirm_url: str | None,
        customer_message: str | None,
        reason: str,
    ) -> "Payment":
        """created -> pending once the vendor accepted the request and named its reference."""
        return await self._reach(
            PaymentStatus.PENDING,
            {
                "provider_reference": provider_reference,
                "charged_amount_minor": charged_amount_minor,
                "charged_currency": charged_currency,
                "client_secret": client_secret,
                "approve_url": approve_url,
                "confirm_url": confirm_url,
                "customer_message": customer_message,
                "reason": reason,
            },
        )

    async def succeed(self, receipt: str | None, reason: str, session: AsyncClientSession | None = None) -> "Payment":
        """open (or closed unpaid: collected after all) -> succeeded; ReceiptAlreadyUsed when another payment holds it."""
        try:
            return await self._reach(
                PaymentStatus.SUCCEEDED, {"receipt": receipt, "reason": reason, "settled_at": stored_now()}, session=session
            )
        except DuplicateKeyError:
            raise ReceiptAlreadyUsed(f"receipt {receipt} already settled another payment") from None

    async def close_unpaid(self, outcome: PaymentStatus, reason: str) -> "Payment":
        """created or pending -> failed, cancelled or expired; the target is free for another payment."""
        if outcome not in CLOSED_UNPAID:
            raise ValueError(f"{outcome} does not close a payment unpaid")
        return await self._reach(outcome, {"reason": reason, "settled_at": stored_now()}, unset=("active_key",))

    async def record_refunded(
        self, refunded_total_minor: int, fully: bool, reason: str, session: AsyncClientSession | None = None
    ) -> "Payment":
        """succeeded or partially refunded -> (partially) refunded, only ever from the refunded total this payment
        holds to a larger one. A total that reaches what was collected is a full refund whatever the statement said:
        two refunds answered at once may each be reported partial while together they return everything."""
        collected = self.charged_amount_minor or self.requested_amount_minor
        target = PaymentStatus.REFUNDED if fully or refunded_total_minor >= collected else PaymentStatus.PARTIALLY_REFUNDED
        if self.refunded_minor >= refunded_total_minor:
            raise PaymentStateConflict(self.id, target, self.status)
        return await self._reach(
            target,
            {"refunded_minor": refunded_total_minor, "reason": reason},
            also={"refunded_minor": self.refunded_minor},
            session=session,
        )

    async def flag(self, code: str, detail: str) -> "Payment | None":
        """Mark the payment for a person to review; the first flag stays, later ones only reach the logs."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "flagged": None},
            {"$set": {"flagged": PaymentFlag(code=code, detail=detail).model_dump(), "updated_at": stored_now()}},
            return_document=ReturnDocument.AFTER,
        )
        return Payment.model_validate(updated) if updated else None

    def refundable_minor(self) -> int:
        """What of the price may still be asked back: never more than was collected, whatever refunds came before."""
        return max(0, self.requested_amount_minor - self.refunds_owed_minor)

    async def add_refund(self, refund: PaymentRefund, session: AsyncClientSession | None = None) -> "Payment | None":
        """Record a refund request once per key, for no more than is still refundable as this payment was read; None
        when one with this key is recorded, the payment is not collected, or another refund came first."""
        if not 0 < refund.requested_minor <= self.refundable_minor():
            return None
        updated = await self.get_pymongo_collection().find_one_and_update(
            {
                "_id": self.id,
                "status": {"$in": [status.value for status in COLLECTED]},
                "refunds.key": {"$ne": refund.key},
                "refunds_owed_minor": self._owed_as_read(),
            },
            {
                "$push": {"refunds": refund.model_dump()},
                "$inc": {"refunds_owed_minor": refund.requested_minor},
                "$set": {"updated_at": stored_now()},
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return Payment.model_validate(updated) if updated else None

    async def owe_refunded(self, owed_minor: int, session: AsyncClientSession) -> None:
        """A refund made at the vendor and never asked here (its dashboard): what it returned is owed back as well."""
        if owed_minor <= self.refunds_owed_minor:
            return
        moved = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "refunds_owed_minor": self._owed_as_read()}, {"$set": {"refunds_owed_minor": owed_minor}}, session=session
        )
        if not moved.modified_count:
            raise PaymentStateConflict(self.id, self.status, None)

    def _owed_as_read(self) -> Any:
        # A payment stored before refunds were counted has no such field: it had none owed.
        return self.refunds_owed_minor if self.refunds_owed_minor else {"$in": [0, None]}

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

    async def note_refund_query(self, key: str, now: datetime) -> None:
        """A pending refund was asked about: its clock restarts, so it is asked again only after another wait. A
        refund settled meanwhile is left as it is."""
        await self.get_pymongo_collection().update_one(
            {"_id": self.id},
            {"$set": {"refunds.$[entry].updated_at": now}},
            array_filters=[{"entry.key": key, "entry.status": RefundStatus.PENDING.value}],
        )

    async def _reach(
        self,
        target: PaymentStatus,
        changes: dict[str, Any],
        *,
        unset: tuple[str, ...] = (),
        also: dict[str, Any] | None = None,
        session: AsyncClientSession | None = None,
    ) -> "Payment":
        """Move to `target` only from a state it may follow (REACHABLE_FROM), and only while the filter `also` holds."""
        allowed = {"status": {"$in": [status.value for status in REACHABLE_FROM[target]]}}
        return await self._advance(target, {**allowed, **(also or {})}, changes, unset=unset, session=session)
