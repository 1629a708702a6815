"""What a person shows of themselves: a display name, a photo, a short bio, their languages, and the rating others
gave them."""

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel, ReturnDocument

from documents.clock import stored_now


class Profile(Document):
    user_id: str
    display_name: str | None = None
    # A ready photo of the user's own, through the files API.
    photo_id: str | None = None
    bio: str | None = None
    # ISO 639 codes, most fluent first.
    languages: list[str] = Field(default_factory=list)
    # Revealed reviews about this person, kept by documents.ratings.
    rating_count: int = 0
    rating_sum: int = 0
    rating_average: float = 0.0
    rating_category_sums: dict[str, int] = Field(default_factory=dict)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "profiles"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True, name="one_profile_per_user")]

    @classmethod
    async def of(cls, user_id: str) -> "Profile":
        """The user's profile; an empty one when they never wrote one."""
        return await cls.find_one({"user_id": user_id}) or cls(user_id=user_id)

    @classmethod
    async def write(cls, user_id: str, changes: dict[str, Any]) -> "Profile":
        """Set these fields (creating the profile on first write), in one atomic upsert."""
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"user_id": user_id},
            {"$set": {**changes, "updated_at": stored_now()}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw)
