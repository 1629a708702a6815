"""An admin's message to many users: who it is for, what it says, and how far its sending has come."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ReturnDocument

from documents.clock import stored_now


class BroadcastStatus(StrEnum):
    SENDING = "sending"
    COMPLETED = "completed"


class Audience(BaseModel):
    """`all` users, holders of a `role` (value: the role), or ticket holders of an `event` (value: its id)."""

    kind: str
    value: str | None = None


class Broadcast(Document):
    admin_id: str
    audience: Audience
    title: str
    body: str
    # A promotion, sent only to users who opted in to marketing.
    marketing: bool = False
    status: BroadcastStatus = BroadcastStatus.SENDING
    total: int = 0
    sent: int = 0
    failed: int = 0
    # The last recipient id handled: the next batch starts after it.
    cursor: str | None = None
    created_at: datetime = Field(default_factory=stored_now)
    finished_at: datetime | None = None

    class Settings:
        name = "broadcasts"

    @classmethod
    async def advance(
        cls, broadcast_id: PydanticObjectId, *, after: str | None, cursor: str | None, sent: int, failed: int
    ) -> "Broadcast | None":
        """Count one batch once: only while the cursor is where the batch started, so a retried batch adds nothing."""
        changes: dict = {"cursor": cursor}
        if cursor is None:
            changes |= {"status": BroadcastStatus.COMPLETED.value, "finished_at": stored_now()}
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"_id": broadcast_id, "cursor": after, "status": BroadcastStatus.SENDING.value},
            {"$inc": {"sent": sent, "failed": failed}, "$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw) if raw else None
