"""A data subject's request: to erase their account after a grace period, or for an archive of their data."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.clock import stored_now
from documents.state import AdvancesState, StateConflict


class RequestKind(StrEnum):
    DELETION = "deletion"
    EXPORT = "export"


class RequestStatus(StrEnum):
    # A deletion waits out its grace period; an export waits for its job.
    SCHEDULED = "scheduled"
    # The erasure job has started: cancelling is no longer possible.
    ERASING = "erasing"
    ERASED = "erased"
    CANCELLED = "cancelled"
    READY = "ready"
    # An export's archive has passed its lifetime and been removed.
    EXPIRED = "expired"


# The states in which a deletion still holds the account (one at a time per account).
OPEN_DELETION = (RequestStatus.SCHEDULED, RequestStatus.ERASING)


class PrivacyRequestConflict(StateConflict):
    noun = "privacy request"


class PrivacyRequest(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = PrivacyRequestConflict

    kind: RequestKind
    # The account's id until it is erased, its pseudonym afterwards: the record proves the erasure, not who it was.
    user_id: str
    # Drawn when a deletion is requested, so a retried erasure writes the same one in every record it keeps.
    pseudonym: str | None = None
    status: RequestStatus = RequestStatus.SCHEDULED
    # The admin who acted on a data subject's request made outside the app, and the reference they gave.
    admin_id: str | None = None
    reason: str | None = None
    requested_at: datetime = Field(default_factory=stored_now)
    # A deletion runs once this passes; until then the owner can cancel it.
    due_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_by: str | None = None
    # Why the erasure was last put off (codes of what blocked it).
    blocked_by: str | None = None
    archive_key: str | None = None
    archive_bytes: int | None = None
    expires_at: datetime | None = None
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "privacy_requests"
        indexes = [
            IndexModel(
                [("user_id", ASCENDING)],
                name="one_open_deletion",
                unique=True,
                partialFilterExpression={"kind": "deletion", "status": {"$in": [s.value for s in OPEN_DELETION]}},
            ),
            IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)], name="by_user"),
            IndexModel([("status", ASCENDING), ("due_at", ASCENDING)], name="due"),
        ]

    @classmethod
    async def schedule_deletion(
        cls, user_id: str, pseudonym: str, due_at: datetime, *, admin_id: str | None, reason: str | None
    ) -> "PrivacyRequest":
        """The account's open deletion: a new one, or the one already scheduled (requesting twice is one request)."""
        request = cls(
            kind=RequestKind.DELETION,
            user_id=user_id,
            pseudonym=pseudonym,
            due_at=due_at,
            admin_id=admin_id,
            reason=reason,
        )
        try:
            await request.insert()
        except DuplicateKeyError:
            existing = await cls.open_deletion_of(user_id)
            if existing is None:
                raise
            return existing
        return request

    @classmethod
    async def open_deletion_of(cls, user_id: str) -> "PrivacyRequest | None":
        return await cls.find_one(
            {
                "kind": RequestKind.DELETION.value,
                "user_id": user_id,
                "status": {"$in": [s.value for s in OPEN_DELETION]},
            }
        )

    @classmethod
    async def cancel_deletion(cls, user_id: str, cancelled_by: str) -> "PrivacyRequest | None":
        """Cancel the account's deletion while it still waits; None when none waits."""
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"kind": RequestKind.DELETION.value, "user_id": user_id, "status": RequestStatus.SCHEDULED.value},
            {
                "$set": {
                    "status": RequestStatus.CANCELLED.value,
                    "cancelled_by": cancelled_by,
                    "updated_at": stored_now(),
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw) if raw else None

    @classmethod
    async def claim_due_deletion(cls, now: datetime) -> "PrivacyRequest | None":
        """Move one deletion whose grace period is over to erasing; an erasure left half-done is picked up again."""
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"kind": RequestKind.DELETION.value, "status": RequestStatus.SCHEDULED.value, "due_at": {"$lte": now}},
            {"$set": {"status": RequestStatus.ERASING.value, "updated_at": stored_now()}},
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw) if raw else None

    @classmethod
    async def erasing(cls) -> list["PrivacyRequest"]:
        return await cls.find({"kind": RequestKind.DELETION.value, "status": RequestStatus.ERASING.value}).to_list()

    async def mark_erased(self) -> "PrivacyRequest":
        """erasing -> erased, the account's id replaced by its pseudonym."""
        return await self._advance(
            RequestStatus.ERASED,
            {"status": RequestStatus.ERASING.value},
            {"user_id": self.pseudonym, "completed_at": stored_now(), "reason": None},
        )

    async def postpone(self, due_at: datetime, because: str) -> "PrivacyRequest":
        """erasing -> scheduled again, due later: what blocked it must finish first."""
        return await self._advance(
            RequestStatus.SCHEDULED, {"status": RequestStatus.ERASING.value}, {"due_at": due_at, "blocked_by": because}
        )

    @classmethod
    async def open_export(cls, user_id: str, *, admin_id: str | None, reason: str | None) -> "PrivacyRequest":
        request = cls(kind=RequestKind.EXPORT, user_id=user_id, admin_id=admin_id, reason=reason)
        await request.insert()
        return request

    async def mark_ready(self, archive_key: str, archive_bytes: int, expires_at: datetime) -> "PrivacyRequest":
        return await self._advance(
            RequestStatus.READY,
            {"status": RequestStatus.SCHEDULED.value},
            {
                "archive_key": archive_key,
                "archive_bytes": archive_bytes,
                "expires_at": expires_at,
                "completed_at": stored_now(),
            },
        )

    @classmethod
    async def expired_exports(cls, now: datetime, limit: int) -> list["PrivacyRequest"]:
        return (
            await cls.find(
                {"kind": RequestKind.EXPORT.value, "status": RequestStatus.READY.value, "expires_at": {"$lte": now}}
            )
            .limit(limit)
            .to_list()
        )

    async def mark_expired(self) -> None:
        await self._advance(RequestStatus.EXPIRED, {"status": RequestStatus.READY.value}, {"archive_key": None})

    @classmethod
    async def of_user(cls, user_id: str, kind: RequestKind) -> list["PrivacyRequest"]:
        return await cls.find({"user_id": user_id, "kind": kind.value}).sort([("_id", DESCENDING)]).limit(20).to_list()

    @classmethod
    async def by_id(cls, request_id: str) -> "PrivacyRequest | None":
        if not PydanticObjectId.is_valid(request_id):
            return None
        return await cls.get(PydanticObjectId(request_id))
