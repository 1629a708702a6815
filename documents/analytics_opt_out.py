"""A user's choice about product analytics: on or off, and when it was made. A user who never chose follows the
deployment's default (privacy.analytics_default_on)."""

from datetime import UTC, datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel


class AnalyticsOptOut(Document):
    user_id: str
    # False for a refusal; records written before a choice could be either way hold only refusals.
    enabled: bool = False
    opted_out_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    class Settings:
        name = "analytics_opt_outs"
        indexes = [IndexModel([("user_id", 1)], name="user_unique", unique=True)]

    @classmethod
    async def set_for(cls, user_id: str, *, enabled: bool) -> None:
        """Record the choice idempotently: one document per user, holding the latest choice and its time."""
        await cls.get_pymongo_collection().update_one(
            {"user_id": user_id}, {"$set": {"enabled": enabled, "opted_out_at": datetime.now(UTC)}}, upsert=True
        )

    @classmethod
    async def is_enabled(cls, user_id: str, *, default: bool) -> bool:
        found = await cls.get_pymongo_collection().find_one({"user_id": user_id}, {"enabled": 1})
        return default if found is None else bool(found.get("enabled", False))

    @classmethod
    async def excluded_among(cls, user_ids: list[str], *, default: bool) -> set[str]:
        """Which of these users analytics must leave out: those who refused, and, when the default is off, those who
        never turned it on."""
        cursor = cls.get_pymongo_collection().find(
            {"user_id": {"$in": user_ids}}, {"user_id": 1, "enabled": 1, "_id": 0}
        )
        chosen = {document["user_id"]: bool(document.get("enabled", False)) async for document in cursor}
        return {user_id for user_id in user_ids if not chosen.get(user_id, default)}
