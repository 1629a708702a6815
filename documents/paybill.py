"""Paybill (M-Pesa C2B): the short account number a guest types for a booking or order, and every payment received
on the Paybill with where it went — settled a payment, or held unmatched until an admin assigns or returns it."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now
from documents.payment import PaymentPurpose
from documents.state import AdvancesState, StateConflict


class PaybillReference(Document):
    """The account number of one booking or ticket order on the Paybill, and whose it is."""

    code: str
    purpose: PaymentPurpose
    target_id: str
    owner_id: str
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "paybill_references"
        indexes = [
            IndexModel([("code", ASCENDING)], unique=True, name="one_target_per_code"),
            IndexModel([("purpose", ASCENDING), ("target_id", ASCENDING)], unique=True, name="one_code_per_target"),
        ]


class PaybillStatus(StrEnum):
    # Being matched by the request that received it (or, once its lease lapsed, by a retry of the confirmation).
    PROCESSING = "processing"
    SETTLED = "settled"
    # Matched nothing payable: the money waits for an admin (suspense).
    UNMATCHED = "unmatched"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


class PaybillStateConflict(StateConflict):
    """The Paybill payment was not in a state that allows this change."""

    noun = "paybill payment"


class PaybillPayment(Document, AdvancesState):
    """One payment a customer made to the Paybill, as M-Pesa confirmed it; its TransID is unique."""

    state_conflict: ClassVar[type[StateConflict]] = PaybillStateConflict

    trans_id: str
    amount_minor: int
    currency: str = "KES"
    account_reference: str
    msisdn: str
    payer_name: str
    paid_at: datetime | None = None
    status: PaybillStatus = PaybillStatus.PROCESSING
    claimed_at: datetime = Field(default_factory=stored_now)
    # Why it matched nothing (unknown_reference, not_payable, amount_differs, already_paid).
    unmatched_reason: str | None = None
    purpose: PaymentPurpose | None = None
    target_id: str | None = None
    payment_id: str | None = None
    # The admin who assigned or returned it, and why; the reversal asked of Daraja and what it answered.
    resolved_by: str | None = None
    resolution_note: str | None = None
    reversal_conversation_id: str | None = None
    reversal_receipt: str | None = None
    raw: dict[str, Any]
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "paybill_payments"
        indexes = [
            IndexModel([("trans_id", ASCENDING)], unique=True, name="one_record_per_transaction"),
            IndexModel([("status", ASCENDING), ("_id", DESCENDING)], name="by_status"),
            IndexModel(
                [("reversal_conversation_id", ASCENDING)],
                partialFilterExpression={"reversal_conversation_id": {"$type": "string"}},
                name="by_reversal",
            ),
        ]

    async def claim(self, now: datetime, lease: timedelta, *, from_unmatched: bool = False) -> "PaybillPayment | None":
        """Take the payment to match it: one in processing whose lease lapsed (or, for an admin's assignment, one
        unmatched); None when another request holds it or it is settled."""
        lapsed = {"status": PaybillStatus.PROCESSING.value, "claimed_at": {"$lte": now - lease}}
        choices = [lapsed, {"status": PaybillStatus.UNMATCHED.value}] if from_unmatched else [lapsed]
        return await self._move(PaybillStatus.PROCESSING, {"$or": choices}, {"claimed_at": now})

    async def settle(self, purpose: PaymentPurpose, target_id: str, payment_id: str, **resolution: Any) -> "PaybillPayment":
        """processing -> settled: the money paid `payment_id` for its booking or order."""
        changes = {"purpose": purpose.value, "target_id": target_id, "payment_id": payment_id,
                   "unmatched_reason": None, **resolution}  # fmt: skip
        return await self._advance(PaybillStatus.SETTLED, {"status": PaybillStatus.PROCESSING.value}, changes)

    async def hold_unmatched(self, reason: str, session: AsyncClientSession | None = None) -> "PaybillPayment":
        """processing -> unmatched: nothing payable matches it; it waits in the admins' list."""
        processing = {"status": PaybillStatus.PROCESSING.value}
        return await self._advance(PaybillStatus.UNMATCHED, processing, {"unmatched_reason": reason}, session=session)

    async def start_refund(self, admin_id: str, note: str) -> "PaybillPayment":
        """unmatched -> refunding, before Daraja is asked for the reversal."""
        changes = {"resolved_by": admin_id, "resolution_note": note}
        return await self._advance(PaybillStatus.REFUNDING, {"status": PaybillStatus.UNMATCHED.value}, changes)

    async def note_reversal(self, conversation_id: str) -> "PaybillPayment":
        return await self._advance(None, {"status": PaybillStatus.REFUNDING.value}, {"reversal_conversation_id": conversation_id})

    async def finish_refund(
        self, reversal_receipt: str | None, session: AsyncClientSession | None = None
    ) -> "PaybillPayment | None":
        """refunding -> refunded once Daraja reversed it; None when it already was."""
        refunding = {"status": PaybillStatus.REFUNDING.value}
        return await self._move(PaybillStatus.REFUNDED, refunding, {"reversal_receipt": reversal_receipt}, session)

    async def note_status_query(self) -> "PaybillPayment | None":
        """A payment being returned was asked about: its clock restarts, so it is asked again only after another wait."""
        return await self._move(None, {"status": PaybillStatus.REFUNDING.value}, {})

    async def refund_failed(self, reason: str) -> "PaybillPayment | None":
        """refunding -> unmatched again: Daraja did not reverse it; an admin decides anew."""
        changes = {"unmatched_reason": reason, "reversal_conversation_id": None}
        return await self._move(PaybillStatus.UNMATCHED, {"status": PaybillStatus.REFUNDING.value}, changes)

    async def _move(
        self,
        target: PaybillStatus | None,
        expected: dict[str, Any],
        changes: dict[str, Any],
        session: AsyncClientSession | None = None,
    ) -> "PaybillPayment | None":
        """The shared step, for the moves whose losers simply stand aside: None when the payment was not as expected."""
        try:
            return await self._advance(target, expected, changes, session=session)
        except PaybillStateConflict:
            return None

    @classmethod
    async def by_id(cls, paybill_id: str) -> "PaybillPayment | None":
        return await cls.get(PydanticObjectId(paybill_id)) if PydanticObjectId.is_valid(paybill_id) else None
