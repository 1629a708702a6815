"""A person's account: contact points, password, roles and two-factor state."""

from datetime import UTC, datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel, ReturnDocument

Role = Literal["guest", "agent", "admin", "scanner"]
ContactChannel = Literal["email", "sms"]


def _now() -> datetime:
    return datetime.now(UTC)


class User(Document):
    email: str | None = None
    phone: str | None = None
    email_verified_at: datetime | None = None
    phone_verified_at: datetime | None = None
    password_hash: str
    password_changed_at: datetime = Field(default_factory=_now)
    roles: list[Role] = Field(default_factory=lambda: ["guest"])
    created_at: datetime = Field(default_factory=_now)
    last_login_at: datetime | None = None
    totp_secret: str | None = None
    totp_pending_secret: str | None = None
    totp_last_step: int = -1
    backup_code_hashes: list[str] = Field(default_factory=list)
    # Set while an admin has locked the account: it cannot sign in or renew a session until unlocked.
    locked_at: datetime | None = None
    # Set once the account's erasure has begun: no role is granted to it from then on (the erasure deletes it last).
    erasure_started_at: datetime | None = None

    class Settings:
        name = "users"
        indexes = [
            # Partial, so any number of accounts may have no email (or no phone).
            IndexModel(
                [("email", 1)], name="email_unique", unique=True, partialFilterExpression={"email": {"$type": "string"}}
            ),
            IndexModel(
                [("phone", 1)], name="phone_unique", unique=True, partialFilterExpression={"phone": {"$type": "string"}}
            ),
        ]

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_secret is not None

    def destination(self, channel: ContactChannel) -> str | None:
        return self.email if channel == "email" else self.phone

    @classmethod
    async def by_login(cls, *, email: str | None, phone: str | None) -> "User | None":
        if email is not None:
            return await cls.find_one({"email": email})
        if phone is not None:
            return await cls.find_one({"phone": phone})
        return None

    async def record_login(self) -> None:
        await self.get_pymongo_collection().update_one({"_id": self.id}, {"$set": {"last_login_at": _now()}})

    async def mark_verified(self, channel: ContactChannel, destination: str) -> bool:
        """Mark the contact point verified, provided it is still the one the code was sent to."""
        field = "email" if channel == "email" else "phone"
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, field: destination}, {"$set": {f"{field}_verified_at": _now()}}
        )
        return result.matched_count == 1

    async def replace_contact(self, channel: ContactChannel, destination: str) -> str | None:
        """Make `destination` the account's (verified) email or phone; answers the one it replaced. A destination
        another account holds raises DuplicateKeyError from the unique index."""
        field = "email" if channel == "email" else "phone"
        raw = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id},
            {"$set": {field: destination, f"{field}_verified_at": _now()}},
            projection={field: 1},
            return_document=ReturnDocument.BEFORE,
        )
        return raw.get(field) if raw else None

    async def replace_password(self, password_hash: str) -> None:
        await self.get_pymongo_collection().update_one(
            {"_id": self.id},
            {"$set": {"password_hash": password_hash, "password_changed_at": _now()}},
        )

    async def upgrade_password_hash(self, current_hash: str, stronger_hash: str) -> None:
        """Swap in a hash of the same password at today's cost, unless the password changed meanwhile."""
        await self.get_pymongo_collection().update_one(
            {"_id": self.id, "password_hash": current_hash}, {"$set": {"password_hash": stronger_hash}}
        )

    async def begin_totp_enrolment(self, secret: str) -> bool:
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "totp_secret": None}, {"$set": {"totp_pending_secret": secret}}
        )
        return result.modified_count == 1

    async def confirm_totp(self, secret: str, step: int, backup_code_hashes: list[str]) -> bool:
        """Turn two-factor on with the pending secret, if it is still the pending one and 2FA is still off."""
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "totp_secret": None, "totp_pending_secret": secret},
            {
                "$set": {
                    "totp_secret": secret,
                    "totp_pending_secret": None,
                    "totp_last_step": step,
                    "backup_code_hashes": backup_code_hashes,
                }
            },
        )
        return result.modified_count == 1

    async def replace_totp_secret(self, current: str, replacement: str) -> None:
        """Store the same secret in another form (sealed), unless it changed meanwhile."""
        await self.get_pymongo_collection().update_one(
            {"_id": self.id, "totp_secret": current}, {"$set": {"totp_secret": replacement}}
        )

    async def disable_totp(self) -> bool:
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "totp_secret": {"$ne": None}},
            {
                "$set": {
                    "totp_secret": None,
                    "totp_pending_secret": None,
                    "totp_last_step": -1,
                    "backup_code_hashes": [],
                }
            },
        )
        return result.modified_count == 1

    async def consume_totp_step(self, step: int) -> bool:
        """Accept a TOTP time step once: a code already used (or an older one) is refused."""
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "totp_secret": {"$ne": None}, "totp_last_step": {"$lt": step}},
            {"$set": {"totp_last_step": step}},
        )
        return result.modified_count == 1

    async def consume_backup_code(self, forms: list[str]) -> bool:
        """Spend the backup code stored in any of these forms, once: answers whether one was there."""
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "backup_code_hashes": {"$in": forms}}, {"$pull": {"backup_code_hashes": {"$in": forms}}}
        )
        return result.modified_count == 1

    @classmethod
    async def set_role(cls, user_id: PydanticObjectId, role: Role, *, granted: bool) -> "User | None":
        """Grant or remove a role; answers the user as it is afterwards, or None when there is no such user, or when
        a role is granted to an account whose erasure has begun (one conditional update, so a grant racing the
        erasure's start either lands before it, and goes with the account, or not at all)."""
        update = {"$addToSet": {"roles": role}} if granted else {"$pull": {"roles": role}}
        match = {"_id": user_id, "erasure_started_at": None} if granted else {"_id": user_id}
        raw = await cls.get_pymongo_collection().find_one_and_update(
            match, update, return_document=ReturnDocument.AFTER
        )
        return cls.model_validate(raw) if raw else None

    @classmethod
    async def mark_erasure(cls, user_id: PydanticObjectId, *, started: bool) -> None:
        """Mark the account as being erased (before any of its data is), or unmark it when the erasure is put off."""
        await cls.get_pymongo_collection().update_one(
            {"_id": user_id}, {"$set": {"erasure_started_at": _now() if started else None}}
        )

    @classmethod
    async def erasure_started(cls, user_id: PydanticObjectId) -> bool:
        """Read from the database now: the account exists and its erasure has begun."""
        return (
            await cls.get_pymongo_collection().count_documents(
                {"_id": user_id, "erasure_started_at": {"$ne": None}}, limit=1
            )
            == 1
        )

    @classmethod
    async def set_locked(cls, user_id: PydanticObjectId, *, locked: bool) -> "User | None":
        """Lock an unlocked account or unlock a locked one, in one step; None when there is no such account or it was
        already so."""
        update = {"$set": {"locked_at": _now()}} if locked else {"$set": {"locked_at": None}}
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"_id": user_id, "locked_at": None if locked else {"$ne": None}},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw) if raw else None

    @classmethod
    async def is_locked(cls, user_id: PydanticObjectId) -> bool:
        """Read from the database now, not from a copy loaded earlier in the request."""
        return (
            await cls.get_pymongo_collection().count_documents({"_id": user_id, "locked_at": {"$ne": None}}, limit=1)
            == 1
        )
