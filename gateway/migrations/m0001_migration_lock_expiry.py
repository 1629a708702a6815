"""A TTL index on the migration lock: MongoDB deletes a lease left by a run that died, so no stale lock lingers."""

from pymongo.asynchronous.database import AsyncDatabase

from gateway.migrations.runner import LOCKS_COLLECTION
from gateway.settings import Settings


async def up(db: AsyncDatabase, _: Settings) -> None:
    await db[LOCKS_COLLECTION].create_index("expires_at", expireAfterSeconds=0, name="lease_expiry")
