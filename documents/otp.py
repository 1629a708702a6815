"""One-time codes sent by email or SMS: stored hashed, short-lived, a few tries, one live code per purpose."""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

CODE_DIGITS = 6


class CodePurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    VERIFY_PHONE = "verify_phone"
    PASSWORD_RESET = "password_reset"
    VERIFY_PAYOUT_PHONE = "verify_payout_phone"
    # A new email or phone for the account: it replaces the old one once the code sent to it comes back.
    CHANGE_EMAIL = "change_email"
    CHANGE_PHONE = "change_phone"


CodeCheck = Literal["accepted", "wrong", "dead"]


def _now() -> datetime:
    return datetime.now(UTC)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(code: str, salt: str) -> str:
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


class OneTimeCode(Document):
    user_id: PydanticObjectId
    purpose: CodePurpose
    destination: str
    code_hash: str
    salt: str
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    attempts: int = 0
    consumed_at: datetime | None = None

    class Settings:
        name = "one_time_codes"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("purpose", ASCENDING)], name="one_live_code", unique=True),
            IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
        ]

    @classmethod
    async def issue(
        cls,
        user_id: PydanticObjectId,
        purpose: CodePurpose,
        destination: str,
        *,
        lifetime: timedelta,
        cooldown: timedelta,
    ) -> str | None:
        """A fresh code replacing the previous one; None while the previous one is younger than `cooldown`."""
        code = new_code()
        salt = secrets.token_hex(16)
        now = _now()
        try:
            # Matches the previous code only once it is old enough; otherwise the upsert's insert hits
            # the unique (user, purpose) index, which is how the cooldown holds under concurrent sends.
            await cls.get_pymongo_collection().update_one(
                {"user_id": user_id, "purpose": purpose.value, "created_at": {"$lte": now - cooldown}},
                {
                    "$set": {
                        "destination": destination,
                        "code_hash": code_digest(code, salt),
                        "salt": salt,
                        "created_at": now,
                        "expires_at": now + lifetime,
                        "attempts": 0,
                        "consumed_at": None,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return None
        return code

    @classmethod
    async def check(
        cls, user_id: PydanticObjectId, purpose: CodePurpose, code: str, *, max_attempts: int
    ) -> tuple[CodeCheck, str | None]:
        """Spend one of `max_attempts` on the live code; the outcome and, when accepted, where the code was sent."""
        now = _now()
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {
                "user_id": user_id,
                "purpose": purpose.value,
                "consumed_at": None,
                "expires_at": {"$gt": now},
                "attempts": {"$lt": max_attempts},
            },
            {"$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return "dead", None
        if not hmac.compare_digest(raw["code_hash"], code_digest(code, raw["salt"])):
            return "wrong", None
        consumed = await cls.get_pymongo_collection().update_one(
            {"_id": raw["_id"], "consumed_at": None}, {"$set": {"consumed_at": now}}
        )
        return ("accepted", raw["destination"]) if consumed.modified_count == 1 else ("dead", None)
