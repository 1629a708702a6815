"""A user's opt-in to marketing messages: given or withdrawn, when, and the wording they agreed to."""

from datetime import datetime

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel, ReturnDocument

from documents.clock import stored_now

# Each change is kept: a regulator asks what the person agreed to, and when, not only what holds today.
HISTORY_KEPT = 50


class ConsentChange(BaseModel):
    granted: bool
    wording_version: str
    at: datetime


class MarketingConsent(Document):
    user_id: str
    granted: bool = False
    wording_version: str | None = None
    changed_at: datetime = Field(default_factory=stored_now)
    history: list[ConsentChange] = Field(default_factory=list)

    class Settings:
        name = "marketing_consents"
        indexes = [IndexModel([("user_id", 1)], name="one_per_user", unique=True)]

    @classmethod
    async def record(cls, user_id: str, *, granted: bool, wording_version: str) -> "MarketingConsent":
        now = stored_now()
        change = ConsentChange(granted=granted, wording_version=wording_version, at=now).model_dump()
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"user_id": user_id},
            {
                "$set": {"granted": granted, "wording_version": wording_version, "changed_at": now},
                "$push": {"history": {"$each": [change], "$slice": -HISTORY_KEPT}},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw)

    @classmethod
    async def of(cls, user_id: str) -> "MarketingConsent":
        return await cls.find_one({"user_id": user_id}) or cls(user_id=user_id)

    @classmethod
    async def granted_among(cls, user_ids: list[str]) -> set[str]:
        """Which of these users have opted in to marketing."""
        cursor = cls.get_pymongo_collection().find({"user_id": {"$in": user_ids}, "granted": True}, {"user_id": 1})
        return {document["user_id"] async for document in cursor}
