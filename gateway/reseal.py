"""Re-seal what is still sealed with a previous key, so that key can leave the settings; `lango migrate` runs it."""

from cryptography.exceptions import InvalidTag
from pymongo.asynchronous.database import AsyncDatabase

from documents.hosted_event import HostedEvent
from documents.user import User
from gateway.accounts.context import totp_sealing_keys
from gateway.accounts.two_factor import open_totp_secret, seal_totp_secret
from gateway.crypto.sealing import SealingKeys
from gateway.hosted_events.keys import open_private_key, reseal_private_key, ticket_sealing_keys
from gateway.settings import Settings

_TOTP_FIELDS = ("totp_secret", "totp_pending_secret")


async def reseal_outdated_secrets(db: AsyncDatabase, settings: Settings) -> dict[str, int]:
    """How many TOTP secrets and event keys were sealed again; reads nothing of a kind with no previous key."""
    totp, tickets = totp_sealing_keys(settings), ticket_sealing_keys(settings.tickets)
    return {
        "totp_secrets": await reseal_totp_secrets(db, totp) if totp.previous else 0,
        "event_keys": await _reseal_event_keys(db, tickets) if tickets.previous else 0,
    }


async def reseal_totp_secrets(db: AsyncDatabase, keys: SealingKeys) -> int:
    """Seal with the current key every TOTP secret stored in plaintext or sealed with a previous key."""
    users = db[User.Settings.name]
    resealed = 0
    enrolled = {"$or": [{field: {"$type": "string"}} for field in _TOTP_FIELDS]}
    async for raw in users.find(enrolled, {field: 1 for field in _TOTP_FIELDS}):
        for field in _TOTP_FIELDS:
            stored = raw.get(field)
            if not isinstance(stored, str):
                continue
            opened = open_totp_secret(keys, raw["_id"], stored)
            if opened.outdated:
                # Only if unchanged since read: a sign-in may have re-sealed it, an enrolment replaced it.
                result = await users.update_one(
                    {"_id": raw["_id"], field: stored}, {"$set": {field: seal_totp_secret(keys, raw["_id"], opened.secret)}}
                )
                resealed += result.modified_count
    return resealed


async def _reseal_event_keys(db: AsyncDatabase, keys: SealingKeys) -> int:
    events = db[HostedEvent.Settings.name]
    resealed = 0
    async for raw in events.find({}, {"keys": 1}):
        event_id, updated, stale = str(raw["_id"]), [], 0
        for key in raw.get("keys", []):
            try:
                opened = open_private_key(event_id, key["kid"], key["sealed_private_key"], keys)
            except InvalidTag:
                raise RuntimeError(
                    f"key {key['kid']} of event {event_id} opens with no tickets.key_encryption_key, current or previous"
                ) from None
            if opened.stale:
                key = {**key, "sealed_private_key": reseal_private_key(event_id, key["kid"], opened.plaintext, keys)}
                stale += 1
            updated.append(key)
        if stale:
            # An event's keys are written once, at its creation: nothing else changes them meanwhile.
            await events.update_one({"_id": raw["_id"]}, {"$set": {"keys": updated}})
            resealed += stale
    return resealed
