"""`lango migrate`: indexes, pending data migrations, secrets sealed with a previous key; safe on every deploy."""

import gateway.migrations
from gateway.database import create_mongo_client, init_documents
from gateway.logs import get_logger
from gateway.migrations import apply_migrations, discover_migrations
from gateway.reseal import reseal_outdated_secrets
from gateway.settings import Settings

log = get_logger("lango.migrate")


async def migrate(settings: Settings) -> None:
    client = create_mongo_client(settings.mongodb)
    try:
        await init_documents(client, settings.mongodb, create_indexes=True)
        log.info("indexes up to date", database=settings.mongodb.database)
        applied = await apply_migrations(client[settings.mongodb.database], discover_migrations(gateway.migrations), settings)
        log.info("migrations up to date", applied=applied)
        resealed = await reseal_outdated_secrets(client[settings.mongodb.database], settings)
        if any(resealed.values()):
            log.info("sealed again with the current keys: the previous keys may now leave the settings", **resealed)
    finally:
        await client.close()
