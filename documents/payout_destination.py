"""Where a host or agent is paid: an M-Pesa phone they proved they hold with a one-time code."""

from datetime import datetime
from typing import Literal

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel, ReturnDocument

from documents.clock import stored_now


class PayoutDestination(Document):
    user_id: str
    method: Literal["mpesa"] = "mpesa"
    # The M-Pesa number (2547xxxxxxxx / 2541xxxxxxxx) payouts go to.
    phone: str
    confirmed_at: datetime
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "payout_destinations"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True, name="one_destination_per_user")]

    @classmethod
    async def confirm(cls, user_id: str, phone: str, now: datetime) -> "PayoutDestination":
        """The user's destination is now `phone`, confirmed at `now` (replacing any earlier one)."""
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"user_id": user_id},
            {"$set": {"method": "mpesa", "phone": phone, "confirmed_at": now, "updated_at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw)

    @classmethod
    async def of(cls, user_id: str) -> "PayoutDestination | None":
        return await cls.find_one({"user_id": user_id})
