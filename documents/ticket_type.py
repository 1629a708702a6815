"""A kind of ticket to an event: its price, how many exist, when it sells, and the counter that forbids overselling."""

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from documents.clock import stored_now


class TicketType(Document):
    event_id: PydanticObjectId
    name: str
    price_minor: int
    currency: str
    quantity: int
    # Tickets held or sold; only a conditional $inc that keeps it within quantity changes it upwards.
    sold: int = 0
    sales_start: datetime
    sales_end: datetime
    per_order_limit: int
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "ticket_types"
        indexes = [IndexModel([("event_id", ASCENDING), ("_id", ASCENDING)], name="by_event")]

    def on_sale(self, now: datetime) -> bool:
        return self.sales_start <= now < self.sales_end

    @classmethod
    async def reserve(cls, ticket_type_id: PydanticObjectId, count: int) -> bool:
        """Take `count` tickets in one single-document atomic update; False when fewer are left."""
        taken = await cls.get_pymongo_collection().update_one(
            {"_id": ticket_type_id, "$expr": {"$lte": [{"$add": ["$sold", count]}, "$quantity"]}},
            {"$inc": {"sold": count}},
        )
        return taken.modified_count == 1

    @classmethod
    async def release(cls, ticket_type_id: PydanticObjectId, count: int) -> None:
        await cls.get_pymongo_collection().update_one({"_id": ticket_type_id}, {"$inc": {"sold": -count}})
