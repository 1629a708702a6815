"""Seal the TOTP secrets that accounts enrolled before secrets were sealed at rest (auth.totp_encryption_key)."""

from pymongo.asynchronous.database import AsyncDatabase

from documents.user import User
from gateway.accounts.context import totp_sealing_keys
from gateway.accounts.two_factor import PLAINTEXT_SECRET, seal_totp_secret
from gateway.settings import Settings

_FIELDS = ("totp_secret", "totp_pending_secret")


async def up(db: AsyncDatabase, settings: Settings) -> None:
    keys = totp_sealing_keys(settings)
    users = db[User.Settings.name]
    enrolled = {"$or": [{field: {"$type": "string"}} for field in _FIELDS]}
    async for raw in users.find(enrolled, {field: 1 for field in _FIELDS}):
        for field in _FIELDS:
            plaintext = raw.get(field)
            if isinstance(plaintext, str) and PLAINTEXT_SECRET.match(plaintext):
                # Only if unchanged since read: an enrolment racing a rolling deploy keeps its own value.
                await users.update_one(
                    {"_id": raw["_id"], field: plaintext}, {"$set": {field: seal_totp_secret(keys, raw["_id"], plaintext)}}
                )
