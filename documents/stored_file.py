"""A user's file in object storage: who owns it, where it lives, what its bytes really are, and its state."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from documents.state import AdvancesState, StateConflict


def _now() -> datetime:
    return datetime.now(UTC)


class FileKind(StrEnum):
    """What a file is for; photos must be images and get thumbnails."""

    PHOTO = "photo"
    DOCUMENT = "document"


class FileStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    DELETED = "deleted"


class ThumbnailRef(BaseModel):
    """One stored rendition of a photo."""

    key: str
    longest_side: int
    width: int
    height: int


class FileStateConflict(StateConflict):
    """The file was not in a state that allows this change."""

    noun = "file"


class StoredFile(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = FileStateConflict

    owner_id: str
    kind: FileKind
    # Where the checked bytes are once ready: a key no upload form can write to.
    key: str
    declared_type: str
    max_bytes: int
    # Known once the upload is confirmed: the type the bytes declare, never the client's word.
    content_type: str | None = None
    size: int | None = None
    thumbnails: list[ThumbnailRef] = Field(default_factory=list)
    status: FileStatus = FileStatus.PENDING
    created_at: datetime = Field(default_factory=_now)
    ready_at: datetime | None = None
    deleted_at: datetime | None = None

    class Settings:
        name = "stored_files"
        indexes = [
            IndexModel([("owner_id", ASCENDING), ("_id", DESCENDING)], name="by_owner"),
            IndexModel([("key", ASCENDING)], name="key_unique", unique=True),
            # Uploads never confirmed are swept by age.
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="by_status_age"),
        ]

    @property
    def upload_key(self) -> str:
        """Where this file's upload form writes; confirming moves the bytes out to `key` before checking them."""
        return f"uploads/{self.owner_id}/{self.id}"

    async def mark_ready(self, content_type: str, size: int, thumbnails: list[ThumbnailRef]) -> "StoredFile":
        """Pending -> ready under `key` with what the bytes there turned out to be, in one conditional update."""
        changes = {
            "key": self.key,
            "content_type": content_type,
            "size": size,
            "thumbnails": [thumbnail.model_dump() for thumbnail in thumbnails],
            "ready_at": _now(),
        }
        return await self._advance(FileStatus.READY, {"status": FileStatus.PENDING.value}, changes)

    async def mark_deleted(self) -> "StoredFile":
        """Any live state -> deleted; the caller removes the objects afterwards."""
        return await self._advance(FileStatus.DELETED, {"status": {"$ne": FileStatus.DELETED.value}}, {"deleted_at": _now()})
