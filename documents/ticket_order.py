"""A buyer's order of tickets: held while paying, then paid, expired, cancelled or refunded, forward only."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now
from documents.state import AdvancesState, StateConflict


class OrderStatus(StrEnum):
    HELD = "held"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderStateConflict(StateConflict):
    """The order was not in a state that allows this change."""

    noun = "ticket order"


class OrderLine(BaseModel):
    ticket_type_id: PydanticObjectId
    type_name: str
    quantity: int
    unit_price_minor: int


class TicketOrder(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = OrderStateConflict

    buyer_id: str
    event_id: PydanticObjectId
    host_id: str
    holder_name: str
    lines: list[OrderLine]
    total_minor: int
    currency: str
    # The platform's commission out of total_minor, frozen when the order is priced; the host earns the rest.
    platform_fee_minor: int = 0
    status: OrderStatus = OrderStatus.HELD
    hold_expires_at: datetime
    # Set once the tickets were taken from the counters: only such an order gives them back when it closes.
    seats_taken: bool = False
    payment_id: str | None = None
    paid_at: datetime | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "ticket_orders"
        indexes = [
            IndexModel(
                [("buyer_id", ASCENDING), ("idempotency_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
                name="one_order_per_idempotency_key",
            ),
            IndexModel([("buyer_id", ASCENDING), ("_id", DESCENDING)], name="by_buyer"),
            IndexModel([("status", ASCENDING), ("hold_expires_at", ASCENDING)], name="lapsing_holds"),
            IndexModel([("event_id", ASCENDING), ("_id", ASCENDING)], name="by_event"),
        ]

    @property
    def seats(self) -> int:
        return sum(line.quantity for line in self.lines)

    async def mark_seats_taken(self) -> None:
        await self.get_pymongo_collection().update_one({"_id": self.id}, {"$set": {"seats_taken": True}})
        self.seats_taken = True

    async def mark_paid(self, payment_id: str, session: AsyncClientSession) -> "TicketOrder":
        """held -> paid; a lapsed hold not yet swept still owns its seats, so it may be paid."""
        changes = {"payment_id": payment_id, "paid_at": stored_now()}
        return await self._advance(OrderStatus.PAID, {"status": OrderStatus.HELD.value}, changes, session=session)

    async def expire(self, now: datetime) -> "TicketOrder":
        expected = {"status": OrderStatus.HELD.value, "hold_expires_at": {"$lte": now}}
        return await self._advance(OrderStatus.EXPIRED, expected)

    async def cancel(self) -> "TicketOrder":
        return await self._advance(OrderStatus.CANCELLED, {"status": OrderStatus.HELD.value})

    async def refund(self) -> "TicketOrder":
        return await self._advance(OrderStatus.REFUNDED, {"status": OrderStatus.PAID.value})
