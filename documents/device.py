"""A phone that receives push notifications for a user: one document per device token."""

from datetime import UTC, datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel, ReturnDocument

Platform = Literal["android", "ios", "web"]


def _now() -> datetime:
    return datetime.now(UTC)


class Device(Document):
    user_id: str
    token: str
    platform: Platform
    app_version: str | None = None
    registered_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)

    class Settings:
        name = "devices"
        indexes = [
            # A token belongs to one install; re-registering it under another user moves it.
            IndexModel([("token", 1)], name="token_unique", unique=True),
            IndexModel([("user_id", 1)], name="by_user"),
        ]

    @classmethod
    async def register(cls, user_id: str, token: str, platform: Platform, app_version: str | None) -> "Device":
        """Record the install's token for the user; a token seen before (even under another user) is moved, not copied."""
        now = _now()
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"token": token},
            {
                "$set": {"user_id": user_id, "platform": platform, "app_version": app_version, "updated_at": now},
                "$setOnInsert": {"registered_at": now},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw)

    @classmethod
    async def unregister(cls, user_id: str, device_id: PydanticObjectId) -> bool:
        result = await cls.get_pymongo_collection().delete_one({"_id": device_id, "user_id": user_id})
        return result.deleted_count == 1

    @classmethod
    async def tokens_of(cls, user_id: str) -> list[str]:
        return [device.token for device in await cls.find(cls.user_id == user_id).to_list()]

    @classmethod
    async def forget(cls, tokens: list[str]) -> None:
        """Drop tokens the push vendor reported as no longer registered."""
        if tokens:
            await cls.find({"token": {"$in": tokens}}).delete()
