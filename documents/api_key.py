"""An API key of a server-to-server integration: only the hashes of its secrets, its scopes, expiry and rotation."""

from datetime import datetime, timedelta
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel, ReturnDocument

from documents.clock import stored_now

# The closed set of scopes a key may carry; each integration route needs exactly one.
ApiKeyScope = Literal["bookings:read", "listings:read"]
API_KEY_SCOPES: tuple[ApiKeyScope, ...] = ("bookings:read", "listings:read")


class ApiKeyGone(Exception):
    """The key is revoked or changed meanwhile: it cannot be rotated or revoked (again)."""


class ApiKey(Document):
    """One integration's key; during a rotation the previous secret still works until `previous_valid_until`."""

    name: str
    scopes: list[ApiKeyScope]
    # The account the integration acts for (a channel manager reads this agent's bookings and listings).
    agent_id: str
    secret_hash: str
    previous_secret_hash: str | None = None
    previous_valid_until: datetime | None = None
    # The start of the secret, kept so admins can tell keys apart in lists and logs.
    hint: str
    created_by: str
    created_at: datetime = Field(default_factory=stored_now)
    expires_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    class Settings:
        name = "api_keys"
        indexes = [
            IndexModel([("secret_hash", ASCENDING)], name="secret_hash_unique", unique=True),
            IndexModel(
                [("previous_secret_hash", ASCENDING)],
                name="previous_secret_hash",
                partialFilterExpression={"previous_secret_hash": {"$type": "string"}},
            ),
        ]

    @classmethod
    async def holding(cls, secret_hash: str) -> "ApiKey | None":
        """The key whose current or previous secret has this hash, whatever its state."""
        return await cls.find_one({"$or": [{"secret_hash": secret_hash}, {"previous_secret_hash": secret_hash}]})

    def accepts(self, secret_hash: str, now: datetime) -> bool:
        """Whether a secret with this hash opens the key now: not revoked, not expired, not a retired secret."""
        if self.revoked_at is not None or self.expires_at <= now:
            return False
        if secret_hash == self.secret_hash:
            return True
        return self.previous_valid_until is not None and now < self.previous_valid_until

    async def rotate(self, next_hash: str, next_hint: str, grace: timedelta, now: datetime) -> "ApiKey":
        """The current secret becomes the previous one, valid for `grace`; one conditional update."""
        # Filtered on the secret this copy holds: a concurrent rotation wins, and this one is refused.
        raw = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "revoked_at": None, "secret_hash": self.secret_hash},
            {
                "$set": {
                    "previous_secret_hash": self.secret_hash,
                    "previous_valid_until": now + grace,
                    "secret_hash": next_hash,
                    "hint": next_hint,
                    "rotated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            raise ApiKeyGone("the key is revoked, or was rotated meanwhile")
        return ApiKey.model_validate(raw)

    @classmethod
    async def revoke(cls, key_id: PydanticObjectId, now: datetime) -> "ApiKey":
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"_id": key_id, "revoked_at": None},
            {"$set": {"revoked_at": now, "previous_secret_hash": None, "previous_valid_until": None}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            raise ApiKeyGone("no such live key")
        return cls.model_validate(raw)

    @classmethod
    async def live_keys_of(cls, agent_id: str) -> list["ApiKey"]:
        """The agent's keys not revoked (expired ones included: revoking them too leaves nothing to wake)."""
        return await cls.find({"agent_id": agent_id, "revoked_at": None}).to_list()
