"""A user's refusal of product analytics: while it exists, nothing about them is sent."""

from datetime import UTC, datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel


class AnalyticsOptOut(Document):
    user_id: str
    opted_out_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    class Settings:
        name = "analytics_opt_outs"
        indexes = [IndexModel([("user_id", 1)], name="user_unique", unique=True)]

    @classmethod
    async def set_for(cls, user_id: str, *, opted_out: bool) -> None:
        """Record the choice idempotently: one document per user while opted out, none otherwise."""
        collection = cls.get_pymongo_collection()
        if opted_out:
            await collection.update_one(
                {"user_id": user_id}, {"$setOnInsert": {"opted_out_at": datetime.now(UTC)}}, upsert=True
            )
        else:
            await collection.delete_one({"user_id": user_id})

    @classmethod
    async def is_opted_out(cls, user_id: str) -> bool:
        return await cls.get_pymongo_collection().count_documents({"user_id": user_id}, limit=1) > 0

    @classmethod
    async def among(cls, user_ids: list[str]) -> set[str]:
        """Which of these users have opted out."""
        cursor = cls.get_pymongo_collection().find({"user_id": {"$in": user_ids}}, {"user_id": 1, "_id": 0})
        return {document["user_id"] async for document in cursor}
