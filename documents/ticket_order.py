"""A buyer's order of tickets: held while paying, then paid, expired, cancelled or refunded, forward only."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now


class OrderStatus(StrEnum):
    HELD = "held"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderStateConflict(Exception):
    """The order was not in a state that allows this change."""

    def __init__(self, order_id: PydanticObjectId | None, wanted: OrderStatus, current: OrderStatus | None) -> None:
        super().__init__(f"ticket order {order_id} cannot become {wanted} from {current or 'nothing'}")
        self.current = current


class OrderLine(BaseModel):
    ticket_type_id: PydanticObjectId
    type_name: str
    quantity: int
    unit_price_minor: int


class TicketOrder(Document):
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
        return await self._advance(OrderStatus.PAID, {"status": OrderStatus.HELD.value}, changes, session)

    async def expire(self, now: datetime) -> "TicketOrder":
        expected = {"status": OrderStatus.HELD.value, "hold_expires_at": {"$lte": now}}
        return await self._advance(OrderStatus.EXPIRED, expected, {})

    async def cancel(self) -> "TicketOrder":
        return await self._advance(OrderStatus.CANCELLED, {"status": OrderStatus.HELD.value}, {})

    async def refund(self) -> "TicketOrder":
        return await self._advance(OrderStatus.REFUNDED, {"status": OrderStatus.PAID.value}, {})

    async def _advance(
        self, target: OrderStatus, expected: dict[str, Any], changes: dict[str, Any], session: AsyncClientSession | None = None
    ) -> "TicketOrder":
        """One conditional update: it applies only while the order is still in the state `expected` describes."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, **expected},
            {"$set": {**changes, "status": target.value, "updated_at": stored_now()}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if updated is None:
            current = await self.get_pymongo_collection().find_one({"_id": self.id}, {"status": 1}, session=session)
            raise OrderStateConflict(self.id, target, OrderStatus(current["status"]) if current else None)
        return TicketOrder.model_validate(updated)
