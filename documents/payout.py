"""A payout of a host's or agent's earnings to their M-Pesa phone, and the forward-only states it moves through."""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now
from documents.state import AdvancesState, StateConflict


class PayoutStatus(StrEnum):
    # Saved, not yet acknowledged by Daraja (or the acknowledgement was lost: it is sent again with the same id).
    PENDING = "pending"
    # Daraja took the B2C request; its Result is awaited.
    SENT = "sent"
    # Safaricom's queue timed out: only a transaction status query tells whether the money moved.
    TIMED_OUT = "timed_out"
    PAID = "paid"
    FAILED = "failed"


UNSETTLED = (PayoutStatus.PENDING, PayoutStatus.SENT, PayoutStatus.TIMED_OUT)
# Each state lists the states it may be reached from: paid and failed are final, so a late, duplicate or contrary
# Result changes nothing once one of them is reached.
REACHABLE_FROM: dict[PayoutStatus, tuple[PayoutStatus, ...]] = {
    PayoutStatus.SENT: (PayoutStatus.PENDING,),
    PayoutStatus.TIMED_OUT: (PayoutStatus.PENDING, PayoutStatus.SENT),
    PayoutStatus.PAID: UNSETTLED,
    PayoutStatus.FAILED: UNSETTLED,
}


class PayoutStateConflict(StateConflict):
    """The payout was not in a state from which this move is allowed."""

    noun = "payout"


class Payout(Document, AdvancesState):
    """Its id is the B2C OriginatorConversationID, so Daraja itself refuses to pay one payout twice."""

    state_conflict: ClassVar[type[StateConflict]] = PayoutStateConflict

    user_id: str
    amount_minor: int
    currency: str = "KES"
    # How it is paid (the payout provider's name) and to where: an M-Pesa phone for "mpesa".
    method: str = "mpesa"
    phone: str
    status: PayoutStatus = PayoutStatus.PENDING
    # Set while the payout is unsettled, so the database refuses a second one for the same person meanwhile.
    open_key: str | None = None
    conversation_id: str | None = None
    receipt: str | None = None
    receiver: str | None = None
    result_code: str | None = None
    reason: str | None = None
    send_attempts: int = 0
    status_queried_at: datetime | None = None
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)
    settled_at: datetime | None = None

    class Settings:
        name = "payouts"
        indexes = [
            IndexModel(
                [("open_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"open_key": {"$type": "string"}},
                name="one_open_payout_per_person",
            ),
            IndexModel([("user_id", ASCENDING), ("_id", ASCENDING)], name="by_person"),
            IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)], name="by_status_age"),
        ]

    async def count_send(self) -> "Payout":
        """One more B2C request about to go out for this pending payout."""
        return await self._reach(None, {}, increment={"send_attempts": 1}, allowed=(PayoutStatus.PENDING,))

    async def mark_sent(self, conversation_id: str) -> "Payout":
        return await self._reach(PayoutStatus.SENT, {"conversation_id": conversation_id})

    async def mark_timed_out(self, reason: str) -> "Payout":
        return await self._reach(PayoutStatus.TIMED_OUT, {"reason": reason})

    async def mark_paid(
        self, receipt: str | None, receiver: str | None, reason: str, now: datetime, session: AsyncClientSession | None = None
    ) -> "Payout":
        return await self._reach(
            PayoutStatus.PAID,
            {"receipt": receipt, "receiver": receiver, "result_code": "0", "reason": reason, "settled_at": now},
            unset=("open_key",),
            session=session,
        )

    async def mark_failed(
        self, result_code: str | None, reason: str, now: datetime, session: AsyncClientSession | None = None
    ) -> "Payout":
        return await self._reach(
            PayoutStatus.FAILED,
            {"result_code": result_code, "reason": reason, "settled_at": now},
            unset=("open_key",),
            session=session,
        )

    async def note_status_query(self, now: datetime) -> None:
        await self.get_pymongo_collection().update_one({"_id": self.id}, {"$set": {"status_queried_at": now}})

    async def _reach(
        self,
        target: PayoutStatus | None,
        changes: dict[str, Any],
        *,
        unset: tuple[str, ...] = (),
        increment: dict[str, int] | None = None,
        allowed: tuple[PayoutStatus, ...] | None = None,
        session: AsyncClientSession | None = None,
    ) -> "Payout":
        """Move to `target` only from a state it may follow (REACHABLE_FROM), or from `allowed` when given."""
        sources = allowed if allowed is not None else REACHABLE_FROM[target]  # type: ignore[index]
        expected = {"status": {"$in": [status.value for status in sources]}}
        return await self._advance(target, expected, changes, unset=unset, increment=increment, session=session)

    @classmethod
    async def by_id(cls, payout_id: str) -> "Payout | None":
        return await cls.get(PydanticObjectId(payout_id)) if PydanticObjectId.is_valid(payout_id) else None
