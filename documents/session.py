"""A signed-in device: the hash of its current refresh token, the ones it used, and whether it is revoked."""

from datetime import UTC, datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

# Hashes of used refresh tokens a session remembers to recognise a replay; older ones are merely unknown.
USED_TOKENS_REMEMBERED = 100


def _now() -> datetime:
    return datetime.now(UTC)


class Session(Document):
    """One device session; its refresh tokens form one family, revoked together."""

    user_id: PydanticObjectId
    device: str
    client_address: str | None = None
    refresh_hash: str
    used_refresh_hashes: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=_now)
    last_seen_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_because: str | None = None

    class Settings:
        name = "sessions"
        indexes = [
            IndexModel([("refresh_hash", ASCENDING)], name="refresh_hash_unique", unique=True),
            IndexModel([("used_refresh_hashes", ASCENDING)], name="used_refresh_hashes"),
            IndexModel([("user_id", ASCENDING), ("last_seen_at", DESCENDING)], name="user_sessions"),
            # Sessions disappear once their refresh tokens could no longer be used anyway.
            IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
        ]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > _now()

    @classmethod
    async def rotate(cls, presented_hash: str, next_hash: str, client_address: str | None) -> "Session | None":
        """Swap the current refresh token for the next, in one step; None when the token is not current."""
        now = _now()
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"refresh_hash": presented_hash, "revoked_at": None, "expires_at": {"$gt": now}},
            {
                "$set": {"refresh_hash": next_hash, "last_seen_at": now, "client_address": client_address},
                "$push": {"used_refresh_hashes": {"$each": [presented_hash], "$slice": -USED_TOKENS_REMEMBERED}},
            },
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw) if raw else None

    @classmethod
    async def revoke_family_of_used(cls, used_hash: str) -> "Session | None":
        """Revoke the session that already spent this token; None when no open session did."""
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"used_refresh_hashes": used_hash, "revoked_at": None},
            {"$set": {"revoked_at": _now(), "revoked_because": "refresh_token_reused"}},
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw) if raw else None

    @classmethod
    async def revoke_one(cls, session_id: PydanticObjectId, user_id: PydanticObjectId, because: str) -> bool:
        """Revoke one of the user's open sessions; False when it is not theirs or already closed."""
        result = await cls.get_pymongo_collection().update_one(
            {"_id": session_id, "user_id": user_id, "revoked_at": None},
            {"$set": {"revoked_at": _now(), "revoked_because": because}},
        )
        return result.modified_count == 1

    @classmethod
    async def revoke_all(cls, user_id: PydanticObjectId, because: str, *, keep: PydanticObjectId | None = None) -> list[str]:
        """Revoke every open session of the user except `keep`; answers the ids revoked."""
        scope: dict[str, object] = {"user_id": user_id, "revoked_at": None}
        if keep is not None:
            scope["_id"] = {"$ne": keep}
        ids = [raw["_id"] async for raw in cls.get_pymongo_collection().find(scope, {"_id": 1})]
        if ids:
            await cls.get_pymongo_collection().update_many(
                {"_id": {"$in": ids}, "revoked_at": None}, {"$set": {"revoked_at": _now(), "revoked_because": because}}
            )
        return [str(session_id) for session_id in ids]

    @classmethod
    async def open_sessions_of(cls, user_id: PydanticObjectId) -> list["Session"]:
        return (
            await cls.find({"user_id": user_id, "revoked_at": None, "expires_at": {"$gt": _now()}})
            .sort([("last_seen_at", DESCENDING)])
            .to_list()
        )
