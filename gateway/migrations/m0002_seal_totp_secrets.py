"""Seal the TOTP secrets that accounts enrolled before secrets were sealed at rest (auth.totp_encryption_key)."""

from pymongo.asynchronous.database import AsyncDatabase

from gateway.accounts.context import totp_sealing_keys
from gateway.reseal import reseal_totp_secrets
from gateway.settings import Settings


async def up(db: AsyncDatabase, settings: Settings) -> None:
    await reseal_totp_secrets(db, totp_sealing_keys(settings))
