"""A sign-up waiting for its codes: the hashed password, a hashed code per contact point, a few tries, a short life."""

import hmac
import secrets
from datetime import UTC, datetime
from typing import Literal

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.otp import code_digest
from documents.user import ContactChannel

SignupCheck = Literal["accepted", "wrong", "dead"]
# Concurrent sign-ups for one address each replace the other; past this many rounds the request gives up.
REPLACE_ROUNDS = 5


def _now() -> datetime:
    return datetime.now(UTC)


class SignupContended(Exception):
    """Other sign-ups for the same address kept replacing this one while it was being stored."""


class PendingSignup(Document):
    email: str | None = None
    phone: str | None = None
    password_hash: str
    salt: str = Field(default_factory=lambda: secrets.token_hex(16))
    # Set by the job that sends each code; None while it has not, and for good where an account holds the address.
    email_code_hash: str | None = None
    phone_code_hash: str | None = None
    attempts: int = 0
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime

    class Settings:
        name = "pending_signups"
        indexes = [
            # One pending sign-up per address: the latest replaces the one before, so nobody can squat an address.
            IndexModel([("email", 1)], name="email_unique", unique=True, partialFilterExpression={"email": {"$type": "string"}}),
            IndexModel([("phone", 1)], name="phone_unique", unique=True, partialFilterExpression={"phone": {"$type": "string"}}),
            IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
        ]

    def destination(self, channel: ContactChannel) -> str | None:
        return self.email if channel == "email" else self.phone

    async def replace_earlier(self) -> None:
        """Store this sign-up in place of any pending one for the same email or phone."""
        same_address = [{"email": self.email}] if self.email else []
        same_address += [{"phone": self.phone}] if self.phone else []
        for _ in range(REPLACE_ROUNDS):
            await self.get_pymongo_collection().delete_many({"$or": same_address})
            try:
                await self.insert()
                return
            except DuplicateKeyError:
                # A concurrent sign-up for the same address was stored in between: replace it too.
                continue
        raise SignupContended()

    async def set_code(self, channel: ContactChannel, code: str) -> bool:
        """Keep the code sent to one contact point (hashed); False when this sign-up was replaced or confirmed."""
        field = "email_code_hash" if channel == "email" else "phone_code_hash"
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id}, {"$set": {field: code_digest(code, self.salt)}}
        )
        return result.matched_count == 1

    @classmethod
    async def redeem(
        cls, *, email: str | None, phone: str | None, email_code: str | None, phone_code: str | None, max_attempts: int
    ) -> "tuple[SignupCheck, PendingSignup | None]":
        """Spend one of `max_attempts` on the sign-up of exactly this email and phone; when every code is right it is
        removed (so it creates one account, whoever else tries at the same moment) and answered."""
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"email": email, "phone": phone, "expires_at": {"$gt": _now()}, "attempts": {"$lt": max_attempts}},
            {"$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return "dead", None
        pending = cls.model_validate(raw)
        # Every contact point the sign-up names needs its own code: holding one proves nothing about the other.
        checks = [(pending.email_code_hash, email_code)] if pending.email else []
        checks += [(pending.phone_code_hash, phone_code)] if pending.phone else []
        if not all(stored and code and hmac.compare_digest(stored, code_digest(code, pending.salt)) for stored, code in checks):
            return "wrong", None
        removed = await cls.get_pymongo_collection().delete_one({"_id": pending.id})
        return ("accepted", pending) if removed.deleted_count == 1 else ("dead", None)
